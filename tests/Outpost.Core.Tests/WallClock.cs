namespace Outpost.Core.Tests;

/// <summary>
/// A wall clock a test sets to any instant, backwards included (FakeTimeProvider refuses to go back,
/// but real store servers' clocks do: NTP corrections, a dead RTC battery, an operator's mistake).
/// </summary>
internal sealed class WallClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
