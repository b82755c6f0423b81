namespace Outpost.Cli.Simulation;

/// <summary>
/// A store's wall clock set wrong: <see cref="TimeProvider.System"/>'s time plus an offset that can jump (a clock
/// corrected by hand, a bad NTP answer, a battery-less board booting at its build date). Only the wall clock is
/// off: timers and elapsed time run true, as the monotonic clock of a real machine does when its wall clock jumps.
/// </summary>
internal sealed class SkewedClock(TimeSpan offset) : TimeProvider
{
    private long _offsetTicks = offset.Ticks;

    /// <summary>How far the clock is off now (positive: ahead).</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>The clock jumps by <paramref name="by"/> (negative: back).</summary>
    public void Jump(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;
}
