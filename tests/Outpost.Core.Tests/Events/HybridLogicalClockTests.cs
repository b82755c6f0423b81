using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Events;
using Outpost.Testing;

namespace Outpost.Core.Tests.Events;

public sealed class HybridLogicalClockTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Timestamps_keep_rising_when_the_wall_clock_goes_back_an_hour()
    {
        var time = new WallClock(Start);
        var clock = new HybridLogicalClock(time);
        var before = clock.Now();

        time.Now = Start.AddHours(-1);
        var after = clock.Now();
        var later = clock.Now();

        Assert.True(after > before, $"{after} should be after {before}");
        Assert.True(later > after);
        Assert.Equal(before.PhysicalMilliseconds, after.PhysicalMilliseconds);
    }

    [Fact]
    public void Timestamps_follow_physical_time_when_it_moves_forward()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new HybridLogicalClock(time);
        clock.Now();

        time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(HlcTimestamp.From(Start.AddSeconds(3).ToUnixTimeMilliseconds(), 0), clock.Now());
    }

    [Fact]
    public void Observing_a_remote_timestamp_moves_the_clock_past_it()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new HybridLogicalClock(time);
        var remote = HlcTimestamp.From(Start.AddSeconds(2).ToUnixTimeMilliseconds(), 7);

        clock.Observe(remote);

        Assert.True(clock.Now() > remote);
    }

    [Fact]
    public void A_remote_clock_far_in_the_future_moves_this_clock_only_by_the_drift_bound()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new HybridLogicalClock(time, maxForwardDrift: TimeSpan.FromMinutes(5));

        clock.Observe(HlcTimestamp.From(Start.AddDays(30).ToUnixTimeMilliseconds(), 0));

        Assert.True(clock.Now().PhysicalTime <= Start.AddMinutes(5).AddMilliseconds(1));
        Assert.Equal(1, clock.ClampedMerges);
    }

    [Fact]
    public async Task The_log_clock_stays_monotonic_across_a_restart_with_the_wall_clock_an_hour_back()
    {
        var time = new FakeTimeProvider(Start);
        await using var temp = TempLog.Create(time: time);
        await temp.Log.AppendAsync(TempLog.Event(), Ct);
        var before = (await temp.ReadAllAsync())[^1].Origin.Timestamp;

        await temp.ReopenAsync(new FakeTimeProvider(Start.AddHours(-1)));
        await temp.Log.AppendAsync(TempLog.Event(), Ct);

        var after = (await temp.ReadAllAsync())[^1].Origin.Timestamp;
        Assert.True(after > before, $"{after} should be after {before}");
    }

    /// <summary>A step of a clock's life: read it, receive a remote timestamp, or have the wall clock jump.</summary>
    public sealed record ClockStep(int Kind, int Offset);

    private static Arbitrary<ClockStep[]> ClockSteps() =>
        Gen.Choose(0, 2).SelectMany(kind => Gen.Choose(-3_600_000, 3_600_000).Select(offset => new ClockStep(kind, offset)))
            .ArrayOf().ToArbitrary();

    [Fact]
    public void Property_every_timestamp_issued_is_greater_than_the_one_before()
    {
        Prop.ForAll(ClockSteps(), steps =>
        {
            var time = new WallClock(Start);
            var clock = new HybridLogicalClock(time);
            var last = HlcTimestamp.Zero;
            foreach (var step in steps)
            {
                HlcTimestamp next;
                switch (step.Kind)
                {
                    case 0:
                        next = clock.Now();
                        break;
                    case 1:
                        next = clock.Observe(HlcTimestamp.From(time.GetUtcNow().ToUnixTimeMilliseconds() + step.Offset, Math.Abs(step.Offset) % 100));
                        break;
                    default:
                        time.Now = time.Now.AddMilliseconds(step.Offset);
                        continue;
                }

                if (next <= last)
                {
                    return false;
                }

                last = next;
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Property_a_merge_never_moves_the_clock_backwards_and_lands_past_the_remote()
    {
        Prop.ForAll(ClockSteps(), steps =>
        {
            var time = new WallClock(Start);
            var clock = new HybridLogicalClock(time);
            foreach (var step in steps)
            {
                var before = clock.Last;
                var remote = HlcTimestamp.From(time.GetUtcNow().ToUnixTimeMilliseconds() + step.Offset, 5);
                var merged = clock.Observe(remote);
                var withinDrift = remote.PhysicalTime <= time.Now + clock.MaxForwardDrift;
                if (merged <= before || (withinDrift && merged <= remote))
                {
                    return false;
                }

                time.Now = time.Now.AddMilliseconds(step.Offset / 2);
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
