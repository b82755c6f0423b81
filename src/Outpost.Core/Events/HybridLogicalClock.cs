namespace Outpost.Core.Events;

/// <summary>
/// A hybrid logical clock (Kulkarni et al., 2014): physical time from an injected <see cref="TimeProvider"/>
/// plus a logical counter. Timestamps it issues never go backwards, even when the wall clock does, and
/// merging a remote timestamp moves the clock past it, so an event recorded after receiving another
/// orders after it.
/// </summary>
/// <remarks>
/// The clock starts from a persisted high-water mark (the log keeps one), so it stays monotonic across
/// restarts. A remote timestamp more than <see cref="MaxForwardDrift"/> ahead of local physical time is
/// merged only up to that bound: one node with a broken wall clock cannot drag the whole fleet's clocks
/// into the future. Such merges are counted in <see cref="ClampedMerges"/>.
/// </remarks>
public sealed class HybridLogicalClock
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _last;
    private long _clampedMerges;

    /// <summary>Creates a clock that will issue timestamps above <paramref name="highWater"/>.</summary>
    public HybridLogicalClock(TimeProvider time, HlcTimestamp highWater = default, TimeSpan? maxForwardDrift = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _last = highWater.Value;
        MaxForwardDrift = maxForwardDrift ?? TimeSpan.FromMinutes(5);
    }

    /// <summary>How far ahead of local physical time a merged remote timestamp may move this clock.</summary>
    public TimeSpan MaxForwardDrift { get; }

    /// <summary>The last timestamp issued or merged.</summary>
    public HlcTimestamp Last => new(Volatile.Read(ref _last));

    /// <summary>How many remote timestamps were beyond <see cref="MaxForwardDrift"/> and merged only up to it.</summary>
    public long ClampedMerges => Interlocked.Read(ref _clampedMerges);

    /// <summary>Issues a timestamp for a local event: greater than every timestamp issued or merged before.</summary>
    public HlcTimestamp Now()
    {
        var physical = PhysicalNow();
        lock (_gate)
        {
            _last = Math.Max(physical, _last + 1);
            return new HlcTimestamp(_last);
        }
    }

    /// <summary>
    /// Merges a timestamp received from another node and returns the clock's new value, which is greater
    /// than both the previous value and (within <see cref="MaxForwardDrift"/>) the remote timestamp.
    /// </summary>
    public HlcTimestamp Observe(HlcTimestamp remote)
    {
        var physical = PhysicalNow();
        var bound = physical + (MaxForwardDrift.Ticks / TimeSpan.TicksPerMillisecond << HlcTimestamp.CounterBits);
        var merged = remote.Value;
        if (merged > bound)
        {
            merged = bound;
            Interlocked.Increment(ref _clampedMerges);
        }

        lock (_gate)
        {
            _last = Math.Max(Math.Max(physical, _last + 1), merged + 1);
            return new HlcTimestamp(_last);
        }
    }

    private long PhysicalNow() => Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds()) << HlcTimestamp.CounterBits;
}
