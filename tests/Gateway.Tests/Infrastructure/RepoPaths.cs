namespace Gateway.Tests.Infrastructure;

public static class RepoPaths
{
    /// <summary>The repository root (the folder that holds Gateway.sln).</summary>
    public static string Root { get; } = FindRoot();

    public static string Config => Path.Combine(Root, "config");

    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
