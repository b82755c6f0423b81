namespace Outpost.EndToEnd.Tests;

/// <summary>
/// A wall clock that stands where a test puts it while timers and intervals run in real time: a page test on a slow
/// machine must not see every store drop to "not connected" because a minute passed between two of its steps.
/// </summary>
internal sealed class WallClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
