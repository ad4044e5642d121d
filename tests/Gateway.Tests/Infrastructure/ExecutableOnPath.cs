namespace Gateway.Tests.Infrastructure;

/// <summary>Finds a program the way a shell does: the first executable file of that name in a PATH folder.</summary>
public static class ExecutableOnPath
{
    public static string? Find(string name, string? path = null)
    {
        foreach (var folder in (path ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }
}
