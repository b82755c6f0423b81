using System.Diagnostics;

namespace Outpost.Testing;

/// <summary>
/// A real file system of a few MiB (a tmpfs mounted for the test), so that a test can fill a store's disk for real:
/// SQLite meets ENOSPC as it would on a store server whose disk is full. Mounting needs root (CI runs as root); a test
/// run by another user fails with a message that says so. A ballast file takes the space a test wants gone, and
/// deleting it frees the disk again.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Bytes free on it now.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Mounts a tmpfs of <paramref name="mebibytes"/> MiB in a new temp folder.</summary>
    public static SmallDisk Mount(int mebibytes)
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException(
                $"The full-disk tests mount a small tmpfs, which needs root: run the tests as root (CI does, and so does ./test.sh under sudo); this is user '{Environment.UserName}'.");
        }

        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "outpost-small-disk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m,mode=0755", "tmpfs", path);
        return new SmallDisk(path);
    }

    /// <summary>Fills the disk with a ballast file until at most <paramref name="leaveBytes"/> are free.</summary>
    public void Fill(long leaveBytes, string name = "ballast")
    {
        using var ballast = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Append, FileAccess.Write);
        var chunk = new byte[64 * 1024];
        try
        {
            while (FreeBytes > leaveBytes)
            {
                ballast.Write(chunk, 0, (int)Math.Min(chunk.Length, Math.Max(4096, FreeBytes - leaveBytes)));
                ballast.Flush();
            }
        }
        catch (IOException)
        {
            // The disk is full: as full as asked, and more.
        }
    }

    /// <summary>Deletes the ballast: the disk has room again.</summary>
    public void Free(string name = "ballast") => File.Delete(System.IO.Path.Combine(Path, name));

    public void Dispose()
    {
        try
        {
            Run("umount", "-l", Path);
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Left for the machine's temp cleanup: a test must not fail on its teardown.
        }
    }

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed ({process.ExitCode}): {error.Trim()}");
        }
    }
}
