namespace Outpost.Testing;

/// <summary>
/// A wall clock a test sets to any instant, backwards included (FakeTimeProvider refuses to go back, but real
/// clocks do: NTP corrections, a dead RTC battery, an operator's mistake), or holds still while timers and
/// intervals run in real time (a page test on a slow machine must not see every store turn "not connected"
/// because a minute passed between two of its steps).
/// </summary>
internal sealed class WallClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
