namespace Outpost.Cli.Simulation;

/// <summary>
/// Faults on one part of the simulation (a store, HQ): how many run now, each until the part has recovered from it,
/// and how many ever began. <see cref="LatencyProbe"/> keeps a sample only when none ran and none began while it
/// was taken.
/// </summary>
internal sealed class Disturbance
{
    private int _now;
    private long _ever;

    /// <summary>Faults running now (or whose recovery is still running); 0: undisturbed.</summary>
    public int Now => Volatile.Read(ref _now);

    /// <summary>Faults that ever began.</summary>
    public long Ever => Interlocked.Read(ref _ever);

    /// <summary>A fault begins.</summary>
    public void Begin()
    {
        Interlocked.Increment(ref _ever);
        Interlocked.Increment(ref _now);
    }

    /// <summary>The part has recovered from a fault.</summary>
    public void End() => Interlocked.Decrement(ref _now);
}
