using System.Diagnostics;

namespace Outpost.Cli.Simulation;

/// <summary>
/// A wall clock that runs <see cref="Rate"/> times faster than real time (a fortnight in minutes), and can be set back
/// to real pace without a jump. Only the wall clock is fast: timers, delays and elapsed time run in real time, as on
/// a machine (so a store's retries and intervals behave as they do, while dates, prices' effective days, ages and
/// the log's clock move on by days). HQ and the stores share one, so their clocks agree when they meet again.
/// </summary>
internal sealed class FastClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _origin = start;
    private long _since = Stopwatch.GetTimestamp();
    private double _rate = 1;

    /// <summary>Simulated seconds per real second now.</summary>
    public double Rate
    {
        get
        {
            lock (_gate)
            {
                return _rate;
            }
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            lock (_gate)
            {
                (_origin, _since, _rate) = (NowLocked(), Stopwatch.GetTimestamp(), value);
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return NowLocked();
        }
    }

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

    /// <summary>Waits (in real time) until the clock reads <paramref name="at"/>; at once if it has.</summary>
    public async Task UntilAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 1_000_000; i++)
        {
            var ahead = at - GetUtcNow();
            if (ahead <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (long)(ahead.Ticks / Rate))), cancellationToken);
        }
    }

    private DateTimeOffset NowLocked() => _origin + Stopwatch.GetElapsedTime(_since) * _rate;
}
