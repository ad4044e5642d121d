namespace Gateway.Tests.Infrastructure;

public static class RepoPaths
{
    /// <summary>The repository root (the folder that holds Gateway.sln).</summary>
    public static string Root { get; } = FindRoot();

    public static string Config => Path.Combine(Root, "config");

    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>A file of the npm test tools (tests/tools/node_modules), installed by tests/run.sh; fails the test when missing.</summary>
    public static string NpmTool(string relativePath)
    {
        var path = Path.Combine(Root, "tests", "tools", "node_modules", relativePath);
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing: run tests/run.sh (it installs tests/tools with npm ci).");
        }

        return path;
    }

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
