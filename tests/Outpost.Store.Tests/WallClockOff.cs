using Microsoft.Extensions.Time.Testing;

namespace Outpost.Store.Tests;

/// <summary>A wall clock set wrong by <see cref="Offset"/>; the monotonic clock is the inner one's.</summary>
internal sealed class WallClockOff(FakeTimeProvider inner) : TimeProvider
{
    public FakeTimeProvider Inner => inner;

    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;
}
