namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A config folder laid out as the kubelet mounts a ConfigMap: the files live in a timestamped folder, <c>..data</c> links
/// to it, and each file is a link through <c>..data</c>. An update writes a new timestamped folder and renames a new
/// <c>..data</c> link over the old one (one atomic rename), then removes the old folder — the files' own links never change.
/// </summary>
public static partial class KubeletFolder
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "rename", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string from, string to);

    private const string Data = "..data";

    /// <summary>Moves the folder's *.json files into the kubelet layout.</summary>
    public static void Convert(string folder)
    {
        var version = Path.Combine(folder, "..2026_11_28_00_00_00.000000001");
        Directory.CreateDirectory(version);
        foreach (var file in Directory.GetFiles(folder, "*.json"))
        {
            File.Move(file, Path.Combine(version, Path.GetFileName(file)));
        }

        Directory.CreateSymbolicLink(Path.Combine(folder, Data), Path.GetFileName(version));
        foreach (var file in Directory.GetFiles(version, "*.json"))
        {
            File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(file)), Path.Combine(Data, Path.GetFileName(file)));
        }
    }

    /// <summary>The kubelet's update: every file's new content in a new folder, swapped in by renaming the <c>..data</c> link.</summary>
    public static void Update(string folder, Action<string> editNewVersion)
    {
        var old = Path.Combine(folder, new FileInfo(Path.Combine(folder, Data)).LinkTarget!);
        var version = Path.Combine(folder, $"..2026_11_28_00_00_00.{Guid.NewGuid():N}");
        Directory.CreateDirectory(version);
        foreach (var file in Directory.GetFiles(old))
        {
            File.Copy(file, Path.Combine(version, Path.GetFileName(file)));
        }

        editNewVersion(version);
        var link = Path.Combine(folder, "..data_tmp");
        Directory.CreateSymbolicLink(link, Path.GetFileName(version));
        // rename(2) over the old link: one atomic step, as the kubelet does (File.Move refuses a link to a folder).
        if (Rename(link, Path.Combine(folder, Data)) != 0)
        {
            throw new IOException($"rename {link} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
        Directory.Delete(old, recursive: true);
    }
}
