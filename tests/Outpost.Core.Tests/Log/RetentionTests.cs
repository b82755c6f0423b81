using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Log;
using Outpost.Core.Topics;

namespace Outpost.Core.Tests.Log;

public sealed class RetentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);

    private static TopicCatalog Catalog() => new([
        new TopicPolicy("sales", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(TimeSpan.FromHours(1))),
        new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(1000, TimeSpan.FromHours(1))),
        new TopicPolicy("prices", TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
    ]);

    [Fact]
    public async Task Up_events_are_kept_until_replicated_and_past_the_grace_period()
    {
        var time = new FakeTimeProvider(Start);
        await using var temp = TempLog.Create(time: time, topics: Catalog());
        for (var i = 0; i < 10; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: $"sale-{i}"), Ct);
        }

        time.Advance(TimeSpan.FromHours(2));
        var notReplicated = await temp.Log.ApplyRetentionAsync(Ct);
        await temp.Log.SetCursorAsync("up:hq", CursorKind.Replication, 6, Ct);
        var replicated = await temp.Log.ApplyRetentionAsync(Ct);

        Assert.Equal(0, notReplicated.Total);
        Assert.Equal(6, replicated.Deleted["sales"]);
        Assert.Equal(Enumerable.Range(7, 4).Select(i => (long)i), (await temp.ReadAllAsync()).Select(e => e.Seq));
    }

    [Fact]
    public async Task Replicated_events_inside_the_grace_period_and_unconsumed_events_are_kept()
    {
        var time = new FakeTimeProvider(Start);
        await using var temp = TempLog.Create(time: time, topics: Catalog());
        for (var i = 0; i < 10; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: $"sale-{i}"), Ct);
        }

        await temp.Log.SetCursorAsync("up:hq", CursorKind.Replication, 10, Ct);
        await temp.Log.SetCursorAsync("consumer:sales-by-day", CursorKind.Consumer, 3, Ct);
        var withinGrace = await temp.Log.ApplyRetentionAsync(Ct);
        time.Advance(TimeSpan.FromHours(2));
        var afterGrace = await temp.Log.ApplyRetentionAsync(Ct);

        Assert.Equal(0, withinGrace.Total);
        Assert.Equal(3, afterGrace.Deleted["sales"]);
        Assert.Equal(7, (await temp.ReadAllAsync()).Count);
    }

    [Fact]
    public async Task A_topic_over_its_byte_budget_evicts_oldest_first_and_counts_it()
    {
        await using var temp = TempLog.Create(topics: Catalog());
        var payload = "{\"cpu\":\"" + new string('x', 90) + "\"}";
        for (var i = 0; i < 50; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry", key: $"t{i}", json: payload), Ct);
        }

        var report = await temp.Log.ApplyRetentionAsync(Ct);

        var left = await temp.ReadAllAsync();
        Assert.Equal(10, left.Count);
        Assert.Equal(Enumerable.Range(41, 10).Select(i => (long)i), left.Select(e => e.Seq));
        Assert.Equal(40, report.Evicted["telemetry"]);
        var stats = Assert.Single((await temp.Log.GetStatsAsync(Ct)).Topics);
        Assert.Equal((10L, 40L, 4000L), (stats.Events, stats.EvictedEvents, stats.EvictedBytes));
    }

    [Fact]
    public async Task A_compacted_topic_keeps_the_newest_event_per_key_among_those_consumed()
    {
        await using var temp = TempLog.Create(topics: Catalog());
        foreach (var (key, price) in new[] { ("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("b", 3) })
        {
            await temp.Log.AppendAsync(TempLog.Event(topic: "prices", key: key, json: $$"""{"price":{{price}}}"""), Ct);
        }

        await temp.Log.SetCursorAsync("consumer:price-book", CursorKind.Consumer, 4, Ct);
        var partly = await temp.Log.ApplyRetentionAsync(Ct);
        var afterPartly = (await temp.ReadAllAsync()).Select(e => e.Seq).ToList();
        await temp.Log.SetCursorAsync("consumer:price-book", CursorKind.Consumer, 6, Ct);
        await temp.Log.ApplyRetentionAsync(Ct);

        Assert.Equal(4, partly.Compacted["prices"]);
        Assert.Equal([5L, 6L], afterPartly);
        Assert.Equal([5L, 6L], (await temp.ReadAllAsync()).Select(e => e.Seq));
    }

    [Fact]
    public async Task Sequences_never_repeat_after_the_newest_event_was_evicted_and_the_log_reopened()
    {
        var catalog = new TopicCatalog([new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(1, TimeSpan.Zero))]);
        await using var temp = TempLog.Create(topics: catalog);
        await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry"), Ct);
        await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry"), Ct);
        await temp.Log.ApplyRetentionAsync(Ct);
        Assert.Empty(await temp.ReadAllAsync());
        await temp.ReopenAsync();

        var next = await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry"), Ct);

        Assert.Equal(3, next.Seq);
        Assert.Equal(3, (await temp.ReadAllAsync())[0].Origin.Seq);
    }
}
