namespace Outpost.Cli.Simulation;

/// <summary>
/// The process's open files and sockets, and its limit on them (Linux's <c>/proc/self</c>): a fleet run in one process
/// holds thousands, and past the limit the runtime fails to map memory and aborts with "Out of memory.".
/// </summary>
internal static class OpenFiles
{
    /// <summary>The soft limit on open files (<c>ulimit -n</c>), or null where <c>/proc/self/limits</c> does not say.</summary>
    public static int? Limit { get; } = ReadLimit();

    /// <summary>How many files and sockets the process holds open now, or null where <c>/proc/self/fd</c> does not exist.</summary>
    public static int? Count()
    {
        try
        {
            return Directory.Exists("/proc/self/fd") ? Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int? ReadLimit()
    {
        try
        {
            // "Max open files            20000                20000                files"
            var line = File.Exists("/proc/self/limits") ? File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal)) : null;
            var soft = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(3);
            return int.TryParse(soft, System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
