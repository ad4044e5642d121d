namespace Gateway.Tests.Infrastructure;

public sealed class ExecutableOnPathTests
{
    [Test]
    public void Find_ProgramInAPathFolder_IsFound_WhereverThatFolderIs()
    {
        var folder = Directory.CreateTempSubdirectory("path-").FullName;
        try
        {
            var program = Path.Combine(folder, "redis-server");
            File.WriteAllText(program, "#!/bin/sh\n");
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            Assert.That(ExecutableOnPath.Find("redis-server", "/nonexistent" + Path.PathSeparator + folder), Is.EqualTo(program));
            Assert.That(ExecutableOnPath.Find("redis-server", "/nonexistent"), Is.Null);

            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Assert.That(ExecutableOnPath.Find("redis-server", folder), Is.Null, "a file that is not executable is not a program");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
