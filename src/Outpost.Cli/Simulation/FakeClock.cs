using System.Globalization;

namespace Outpost.Cli.Simulation;

/// <summary>
/// A wrong clock for a store run as a process of its own: libfaketime (Debian's <c>faketime</c> package) preloaded
/// into the process shifts the wall clock the process reads from the system, by an offset kept in a file the
/// simulation rewrites to make the clock jump. The monotonic clock is left true (<c>DONT_FAKE_MONOTONIC</c>), as on a
/// machine whose clock is merely set wrong.
/// </summary>
internal sealed class FakeClock
{
    /// <summary>Where Debian puts the library.</summary>
    public const string Library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

    private readonly string _file;
    private TimeSpan _offset;

    public FakeClock(string file, TimeSpan offset)
    {
        if (!File.Exists(Library))
        {
            throw new InvalidOperationException($"Wrong clocks at the stores run as processes need libfaketime ({Library}): install it with 'apt-get install -y faketime' (./test.sh does), or run with --clock-faults false.");
        }

        _file = file;
        _offset = offset;
        Write();
    }

    /// <summary>How far the clock is off now.</summary>
    public TimeSpan Offset => _offset;

    /// <summary>The environment that makes a process read this clock.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["LD_PRELOAD"] = Library,
        ["FAKETIME_TIMESTAMP_FILE"] = _file,
        ["FAKETIME_NO_CACHE"] = "1",
        ["DONT_FAKE_MONOTONIC"] = "1",
    };

    /// <summary>The clock jumps by <paramref name="by"/> (negative: back), in the running process at once.</summary>
    public void Jump(TimeSpan by)
    {
        _offset += by;
        Write();
    }

    // libfaketime's relative form: a sign and seconds ("+10800", "-7200").
    private void Write() => File.WriteAllText(_file, (_offset >= TimeSpan.Zero ? "+" : "-") + Math.Abs((long)_offset.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "\n");
}
