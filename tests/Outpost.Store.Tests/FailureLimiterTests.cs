using Microsoft.Extensions.Time.Testing;
using Outpost.Store.Devices;

namespace Outpost.Store.Tests;

public sealed class FailureLimiterTests
{
    [Fact]
    public void An_address_out_of_tries_waits_the_window_out_even_when_the_store_s_clock_jumps_back()
    {
        var clock = new WallClockOff(new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero)));
        var limiter = new FailureLimiter(clock);
        for (var i = 0; i < FailureLimiter.MaxFailures; i++)
        {
            limiter.Failed("10.0.0.9");
        }

        Assert.Equal(FailureLimiter.Window, limiter.RetryAfter("10.0.0.9"));
        Assert.Null(limiter.RetryAfter("10.0.0.10"));

        // The store's clock is set back two hours: the lockout stays five minutes, not two hours and five.
        clock.Offset = TimeSpan.FromHours(-2);
        clock.Inner.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(FailureLimiter.Window - TimeSpan.FromMinutes(1), limiter.RetryAfter("10.0.0.9"));

        clock.Inner.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(limiter.RetryAfter("10.0.0.9"));
    }
}
