using System.Text;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Core.Tests.Log;

public sealed class AppendTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Local_events_get_consecutive_sequences_and_origin_sequences_of_this_node()
    {
        await using var temp = TempLog.Create("store-7");
        var a = await temp.Log.AppendAsync(TempLog.Event(key: "a"), Ct);
        var b = await temp.Log.AppendAsync(TempLog.Event(key: "b"), Ct);

        var events = await temp.ReadAllAsync();
        Assert.Equal([1L, 2L], [a.Seq, b.Seq]);
        Assert.All(events, e => Assert.Equal("store-7", e.Origin.Node.Value));
        Assert.Equal([1L, 2L], events.Select(e => e.Origin.Seq));
        Assert.True(events[1].Origin.Timestamp > events[0].Origin.Timestamp);
        Assert.Equal(2, temp.Log.Head);
    }

    [Fact]
    public async Task Stored_event_keeps_every_envelope_field_and_the_payload()
    {
        await using var temp = TempLog.Create();
        var e = TempLog.Event(topic: "orders", key: "order-9", json: """{"lines":[1,2]}""", scope: Scope.Region("north")) with
        {
            Version = 3,
            CorrelationId = "corr-1",
            CausationId = "cause-1",
        };

        await temp.Log.AppendAsync(e, Ct);
        var stored = Assert.Single(await temp.ReadAllAsync());

        Assert.Equal(("orders", "SaleCompleted", 3, "order-9", "region:north", "corr-1", "cause-1"),
            (stored.Topic, stored.Type, stored.Version, stored.Key, stored.Scope.ToString(), stored.CorrelationId, stored.CausationId));
        Assert.Equal("""{"lines":[1,2]}""", Encoding.UTF8.GetString(stored.Payload.Span));
    }

    [Fact]
    public async Task Append_of_an_existing_origin_seq_writes_nothing_and_returns_the_existing_sequence()
    {
        await using var temp = TempLog.Create("hq");
        var origin = new EventOrigin(NodeId.Parse("store-3"), 41, HlcTimestamp.From(1_700_000_000_000, 0));
        var first = await temp.Log.AppendAsync(TempLog.Event(origin: origin), Ct);
        await temp.Log.AppendAsync(TempLog.Event(key: "other"), Ct);

        var again = await temp.Log.AppendAsync(TempLog.Event(origin: origin, json: """{"total":"1.00"}"""), Ct);

        Assert.Equal(new AppendResult(first.Seq, Duplicate: true), again);
        var events = await temp.ReadAllAsync();
        Assert.Equal(2, events.Count);
        Assert.Equal("""{"total":"9.99"}""", Encoding.UTF8.GetString(events[0].Payload.Span));
    }

    [Fact]
    public async Task A_batch_that_repeats_an_origin_stores_it_once()
    {
        await using var temp = TempLog.Create("hq");
        var origin = new EventOrigin(NodeId.Parse("store-3"), 1, HlcTimestamp.From(1_700_000_000_000, 0));

        var results = await temp.Log.AppendBatchAsync([TempLog.Event(origin: origin), TempLog.Event(origin: origin)], cancellationToken: Ct);

        Assert.Equal([new AppendResult(1, false), new AppendResult(1, true)], results);
        Assert.Single(await temp.ReadAllAsync());
    }

    [Fact]
    public async Task Idempotence_survives_a_restart()
    {
        await using var temp = TempLog.Create("hq");
        var origin = new EventOrigin(NodeId.Parse("store-3"), 5, HlcTimestamp.From(1_700_000_000_000, 0));
        await temp.Log.AppendAsync(TempLog.Event(origin: origin), Ct);
        await temp.ReopenAsync();

        var again = await temp.Log.AppendAsync(TempLog.Event(origin: origin), Ct);

        Assert.True(again.Duplicate);
        Assert.Single(await temp.ReadAllAsync());
    }

    [Fact]
    public async Task Sequences_and_origin_sequences_continue_after_a_restart()
    {
        await using var temp = TempLog.Create("store-1");
        await temp.Log.AppendAsync(TempLog.Event(), Ct);
        await temp.Log.AppendAsync(TempLog.Event(), Ct);
        await temp.ReopenAsync();

        var third = await temp.Log.AppendAsync(TempLog.Event(), Ct);

        Assert.Equal(3, third.Seq);
        Assert.Equal(3, (await temp.ReadAllAsync())[^1].Origin.Seq);
    }

    [Fact]
    public async Task Sixteen_concurrent_writers_get_one_total_order_with_no_gap_and_each_writer_keeps_its_order()
    {
        await using var temp = TempLog.Create();
        const int writers = 16;
        const int perWriter = 250;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var n = 0; n < perWriter; n++)
            {
                await temp.Log.AppendAsync(TempLog.Event(key: $"w{w}", json: $$"""{"w":{{w}},"n":{{n}}}"""), Ct);
            }
        }, Ct)));

        var events = await temp.ReadAllAsync();
        Assert.Equal(Enumerable.Range(1, writers * perWriter).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal(events.Select(e => e.Seq), events.Select(e => e.Origin.Seq));
        foreach (var group in events.GroupBy(e => e.Key))
        {
            var ns = group.Select(e => System.Text.Json.JsonDocument.Parse(e.Payload).RootElement.GetProperty("n").GetInt32()).ToList();
            Assert.Equal(Enumerable.Range(0, perWriter), ns);
        }
    }

    [Fact]
    public async Task Concurrent_appends_are_coalesced_into_fewer_transactions_than_appends()
    {
        await using var temp = TempLog.Create();
        var commits = new List<int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "outpost.log.commit.size")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            // Other tests run in parallel and share the meter: count only this log's commits.
            foreach (var tag in tags)
            {
                if (tag.Key == "log" && Equals(tag.Value, temp.Log.Path))
                {
                    lock (commits)
                    {
                        commits.Add(value);
                    }
                }
            }
        });
        listener.Start();

        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => temp.Log.AppendAsync(TempLog.Event(key: $"k{i}"), Ct).AsTask()));

        Assert.Equal(2000, temp.Log.Head);
        lock (commits)
        {
            Assert.Equal(2000, commits.Sum());
            Assert.True(commits.Count < 2000, $"2,000 concurrent appends took {commits.Count} commits");
        }
    }

    [Fact]
    public async Task A_batch_with_an_invalid_event_writes_nothing_and_names_it()
    {
        await using var temp = TempLog.Create();
        var bad = TempLog.Event(json: "{not json");

        var ex = await Assert.ThrowsAsync<InvalidEventException>(async () => await temp.Log.AppendBatchAsync([TempLog.Event(), bad], cancellationToken: Ct));

        Assert.Contains("Event 1 of the batch", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await temp.ReadAllAsync());
        Assert.Equal(0, temp.Log.Head);
    }

    [Fact]
    public async Task Append_with_a_cursor_moves_the_cursor_in_the_same_transaction()
    {
        await using var temp = TempLog.Create();

        await temp.Log.AppendBatchAsync([TempLog.Event(), TempLog.Event()], new CursorUpdate("down:hq", CursorKind.Remote, 77), Ct);

        Assert.Equal(77, await temp.Log.GetCursorAsync("down:hq", Ct));
        Assert.Null(await temp.Log.GetCursorAsync("nothing", Ct));
    }

    [Fact]
    public async Task Contiguous_origin_seq_stops_at_a_gap_and_moves_on_when_it_is_filled()
    {
        await using var temp = TempLog.Create("hq");
        var store = NodeId.Parse("store-5");
        EventOrigin O(long s) => new(store, s, HlcTimestamp.From(1_700_000_000_000, (int)s));

        await temp.Log.AppendBatchAsync([TempLog.Event(origin: O(1)), TempLog.Event(origin: O(2)), TempLog.Event(origin: O(4))], cancellationToken: Ct);
        var beforeFill = await temp.Log.GetContiguousOriginSeqAsync(store, Ct);
        await temp.Log.AppendAsync(TempLog.Event(origin: O(3)), Ct);
        var afterFill = await temp.Log.GetContiguousOriginSeqAsync(store, Ct);

        Assert.Equal((2L, 4L), (beforeFill, afterFill));
    }

    [Fact]
    public async Task A_second_process_cannot_open_a_log_that_is_open()
    {
        await using var temp = TempLog.Create();

        var ex = Assert.Throws<IOException>(() => Outpost.Core.Log.Sqlite.SqliteEventLog.Open(temp.Options));

        Assert.Contains("open in another process", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_log_cannot_be_opened_as_another_node()
    {
        await using var temp = TempLog.Create("store-1");
        await temp.CloseAsync();

        var ex = Assert.Throws<InvalidOperationException>(() => Outpost.Core.Log.Sqlite.SqliteEventLog.Open(new LogOptions { Path = temp.Path, NodeId = "store-2" }));

        Assert.Contains("belongs to node 'store-1'", ex.Message, StringComparison.Ordinal);
        await temp.ReopenAsync();
    }

    [Fact]
    public async Task This_nodes_own_event_coming_back_is_a_duplicate()
    {
        await using var temp = TempLog.Create("store-1");
        await temp.Log.AppendAsync(TempLog.Event(key: "a"), Ct);
        await temp.Log.AppendAsync(TempLog.Event(key: "b"), Ct);
        var own = (await temp.ReadAllAsync())[1];

        var again = await temp.Log.AppendAsync(own.ToReplica(), Ct);
        var next = await temp.Log.AppendAsync(TempLog.Event(key: "c"), Ct);

        Assert.Equal(new AppendResult(2, Duplicate: true), again);
        Assert.Equal(3, next.Seq);
        Assert.Equal(3, (await temp.ReadAllAsync())[^1].Origin.Seq);
    }

    [Fact]
    public async Task Replicated_duplicates_are_found_through_the_origin_index_after_many_events()
    {
        await using var temp = TempLog.Create("hq");
        var store = NodeId.Parse("store-9");
        var batch = Enumerable.Range(1, 3000).Select(i => TempLog.Event(key: $"s{i}", origin: new EventOrigin(store, i, HlcTimestamp.From(1_700_000_000_000, 0)))).ToList();
        await temp.Log.AppendBatchAsync(batch, cancellationToken: Ct);

        var replay = await temp.Log.AppendBatchAsync(batch, cancellationToken: Ct);

        Assert.All(replay, r => Assert.True(r.Duplicate));
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (long)i), replay.Select(r => r.Seq));
        Assert.Equal(3000, await temp.Log.GetContiguousOriginSeqAsync(store, Ct));
        Assert.Equal(3000, temp.Log.Head);
    }
}
