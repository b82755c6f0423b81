using System.Text;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Testing;

namespace Outpost.Core.Postgres.Tests;

/// <summary>
/// What every log under Outpost promises, run on SQLite and on PostgreSQL alike: one behaviour, two databases.
/// </summary>
public abstract class LogContract : IAsyncLifetime
{
    private Backend? _backend;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected Backend Db => _backend ?? throw new InvalidOperationException("not initialised");

    public async ValueTask InitializeAsync() => _backend = await CreateBackendAsync();

    public async ValueTask DisposeAsync()
    {
        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected abstract Task<Backend> CreateBackendAsync();

    internal static NewEvent Event(string topic = "sales", string key = "k1", string json = """{"total":"9.99"}""", Scope? scope = null, EventOrigin? origin = null) => new()
    {
        Topic = topic,
        Type = "SaleCompleted",
        Key = key,
        Scope = scope ?? Scope.All,
        Payload = Encoding.UTF8.GetBytes(json),
        Origin = origin,
    };

    internal static EventOrigin From(string store, long seq) => new(NodeId.Parse(store), seq, HlcTimestamp.From(1_790_000_000_000 + seq, 0));

    internal static async Task<List<StoredEvent>> ReadAllAsync(IEventLog log, ReadFilter? filter = null, int page = 100)
    {
        var all = new List<StoredEvent>();
        long after = 0;
        while (true)
        {
            var read = await log.ReadAsync(after, filter ?? ReadFilter.All, page, Ct);
            all.AddRange(read.Events);
            if (read.Events.Count < page)
            {
                return all;
            }

            after = read.ScannedTo;
        }
    }

    [Fact]
    public async Task Local_events_get_consecutive_sequences_and_keep_every_envelope_field()
    {
        var log = await Db.OpenAsync("hq");
        var a = await log.AppendAsync(Event(key: "a"), Ct);
        var b = await log.AppendAsync(Event(topic: "prices", key: "p-1", json: """{"price":"1.25"}""", scope: Scope.Region("north")) with
        {
            Version = 3,
            CorrelationId = "corr-1",
            CausationId = "cause-1",
        }, Ct);

        var events = await ReadAllAsync(log);
        Assert.Equal([1L, 2L], [a.Seq, b.Seq]);
        Assert.Equal(2, log.Head);
        Assert.Equal([1L, 2L], events.Select(e => e.Origin.Seq));
        Assert.All(events, e => Assert.Equal("hq", e.Origin.Node.Value));
        Assert.True(events[1].Origin.Timestamp > events[0].Origin.Timestamp);
        var stored = events[1];
        Assert.Equal(("prices", "SaleCompleted", 3, "p-1", "region:north", "corr-1", "cause-1", """{"price":"1.25"}"""),
            (stored.Topic, stored.Type, stored.Version, stored.Key, stored.Scope.ToString(), stored.CorrelationId, stored.CausationId, Encoding.UTF8.GetString(stored.Payload.Span)));
    }

    [Fact]
    public async Task A_caller_that_gives_up_after_its_append_is_queued_still_gets_the_append_and_one_that_gave_up_before_writes_nothing()
    {
        var log = await Db.OpenAsync("hq");
        await log.AppendAsync(Event(key: "warm"), Ct);

        // Once queued the events commit whatever the caller does: the call returns where they went, never "cancelled"
        // while they are still on their way (a retry in that gap would write them twice).
        var queued = new List<(Task<IReadOnlyList<AppendResult>> Append, CancellationTokenSource GaveUp)>();
        for (var i = 0; i < 20; i++)
        {
            var gaveUp = new CancellationTokenSource();
            queued.Add((log.AppendBatchAsync([Event(key: $"q{i}"), Event(key: $"q{i}")], cancellationToken: gaveUp.Token).AsTask(), gaveUp));
            await gaveUp.CancelAsync();
        }

        var results = new List<AppendResult>();
        foreach (var (append, gaveUp) in queued)
        {
            results.AddRange(await append);
            gaveUp.Dispose();
        }

        using var before = new CancellationTokenSource();
        await before.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await log.AppendAsync(Event(key: "never"), before.Token));

        var events = await ReadAllAsync(log);
        Assert.Equal(41, events.Count);
        Assert.Equal(events.Skip(1).Select(e => e.Seq), results.Select(r => r.Seq));
        Assert.DoesNotContain(events, e => e.Key == "never");
        Assert.Equal(41, log.Head);
    }

    [Fact]
    public async Task A_replicated_event_is_stored_once_however_often_it_arrives_also_after_a_restart()
    {
        var log = await Db.OpenAsync("hq");
        var first = await log.AppendAsync(Event(origin: From("store-3", 1)), Ct);
        var batch = await log.AppendBatchAsync([Event(origin: From("store-3", 2)), Event(origin: From("store-3", 2)), Event(origin: From("store-3", 1))], cancellationToken: Ct);
        Assert.Equal([new AppendResult(2, false), new AppendResult(2, true), new AppendResult(first.Seq, true)], batch);

        await Db.CloseAsync(log);
        log = await Db.OpenAsync("hq");
        var again = await log.AppendAsync(Event(origin: From("store-3", 2), json: """{"total":"1.00"}"""), Ct);
        var next = await log.AppendAsync(Event(), Ct);

        Assert.Equal(new AppendResult(2, true), again);
        Assert.Equal(3, next.Seq);
        var events = await ReadAllAsync(log);
        Assert.Equal(3, events.Count);
        Assert.Equal("""{"total":"9.99"}""", Encoding.UTF8.GetString(events[1].Payload.Span));
        Assert.True(await log.HoldsOriginAsync(NodeId.Parse("store-3"), 2, Ct));
        Assert.False(await log.HoldsOriginAsync(NodeId.Parse("store-3"), 3, Ct));
    }

    [Fact]
    public async Task A_resent_batch_mixing_held_and_new_events_far_apart_stores_only_the_new_ones()
    {
        var log = await Db.OpenAsync("hq");
        // Held: 1-300 and 500-600 (a later batch that overtook the one before it); 301-499 not yet.
        await log.AppendBatchAsync([.. Enumerable.Range(1, 300).Select(i => Event(origin: From("store-5", i)))], cancellationToken: Ct);
        await log.AppendBatchAsync([.. Enumerable.Range(500, 101).Select(i => Event(origin: From("store-5", i)))], cancellationToken: Ct);
        await log.AppendBatchAsync([Event(origin: From("store-6", 1))], cancellationToken: Ct);
        var resent = new long[] { 7, 5, 6, 200, 300, 301, 302, 420, 499, 500, 550, 600, 601, 2_000 };

        var results = await log.AppendBatchAsync([.. resent.Select(i => Event(origin: From("store-5", i))), Event(origin: From("store-6", 1)), Event(origin: From("store-6", 2))], cancellationToken: Ct);

        var held = new long[] { 7, 5, 6, 200, 300, 500, 550, 600 };
        Assert.Equal([.. resent.Select(held.Contains), true, false], results.Select(r => r.Duplicate));
        var events = await ReadAllAsync(log, page: 1_000);
        var origins = events.Select(e => (e.Origin.Node.Value, e.Origin.Seq)).ToList();
        Assert.Equal(origins.Count, origins.Distinct().Count());
        Assert.Equal(300 + 101 + 1 + (resent.Length - held.Length) + 1, events.Count);
        // A held event's result is the sequence it was stored at.
        Assert.Equal(events.Single(e => e.Origin.Node.Value == "store-5" && e.Origin.Seq == 550).Seq, results[Array.IndexOf(resent, 550)].Seq);
    }

    [Fact]
    public async Task The_gap_free_origin_position_closes_when_a_late_event_arrives()
    {
        var log = await Db.OpenAsync("hq");
        var store = NodeId.Parse("store-9");
        await log.AppendBatchAsync([Event(origin: From("store-9", 1)), Event(origin: From("store-9", 3)), Event(origin: From("store-9", 4))], cancellationToken: Ct);
        Assert.Equal(1, await log.GetContiguousOriginSeqAsync(store, Ct));

        await log.AppendAsync(Event(origin: From("store-9", 2)), Ct);

        Assert.Equal(4, await log.GetContiguousOriginSeqAsync(store, Ct));
        Assert.Equal(0, await log.GetContiguousOriginSeqAsync(NodeId.Parse("store-unknown"), Ct));
    }

    [Fact]
    public async Task Concurrent_writers_get_one_total_order_with_no_gap()
    {
        var log = await Db.OpenAsync("hq");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var n = 0; n < 50; n++)
            {
                await log.AppendAsync(Event(key: $"w{w}", json: $$"""{"n":{{n}}}"""), Ct);
            }
        }, Ct)));

        var events = await ReadAllAsync(log);
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal(events.Select(e => e.Seq), events.Select(e => e.Origin.Seq));
        foreach (var writer in events.GroupBy(e => e.Key))
        {
            Assert.Equal(Enumerable.Range(0, 50), writer.Select(e => System.Text.Json.JsonDocument.Parse(e.Payload).RootElement.GetProperty("n").GetInt32()));
        }
    }

    [Fact]
    public async Task A_batch_moves_its_cursor_in_the_same_commit_and_an_invalid_event_writes_nothing()
    {
        var log = await Db.OpenAsync("store-1");
        await log.AppendBatchAsync([Event(origin: From("hq", 1)), Event(origin: From("hq", 2))], new CursorUpdate("down:hq", CursorKind.Remote, 2), Ct);
        Assert.Equal(2, await log.GetCursorAsync("down:hq", Ct));

        var bad = Event() with { Topic = "" };
        await Assert.ThrowsAsync<InvalidEventException>(async () =>
            await log.AppendBatchAsync([Event(origin: From("hq", 3)), bad], new CursorUpdate("down:hq", CursorKind.Remote, 3), Ct));

        Assert.Equal(2, await log.GetCursorAsync("down:hq", Ct));
        Assert.Equal(2, (await ReadAllAsync(log)).Count);
        Assert.Null(await log.GetCursorAsync("never-set", Ct));
    }

    [Fact]
    public async Task A_store_down_feed_reads_exactly_its_scopes_and_topics_in_order_across_pages()
    {
        var log = await Db.OpenAsync("hq", new TopicCatalog([
            new TopicPolicy("sales", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.KeepForever),
            new TopicPolicy("prices", TopicDirection.Down, TopicPriority.High, RetentionPolicy.KeepForever),
            new TopicPolicy("promotions", TopicDirection.Down, TopicPriority.High, RetentionPolicy.KeepForever)]));
        var scopes = new[] { Scope.All, Scope.Region("north"), Scope.Region("south"), Scope.Store("s1"), Scope.Store("s2") };
        var events = new List<NewEvent>();
        for (var i = 0; i < 300; i++)
        {
            events.Add(Event(topic: i % 3 == 0 ? "sales" : "prices", key: $"k{i}", scope: scopes[i % scopes.Length]));
        }

        await log.AppendBatchAsync(events, cancellationToken: Ct);
        var filter = new ReadFilter { Topics = ["prices", "promotions"], Scopes = [Scope.All, Scope.Region("north"), Scope.Store("s1")] };

        var read = await ReadAllAsync(log, filter, page: 17);

        var expected = Enumerable.Range(0, 300).Where(i => i % 3 != 0 && i % scopes.Length is 0 or 1 or 3).Select(i => (long)(i + 1)).ToList();
        Assert.Equal(expected, read.Select(e => e.Seq));
        Assert.Equal(expected.Count, await log.CountAsync(0, filter, Ct));
        Assert.Equal(expected.Count(s => s > 150), await log.CountAsync(150, filter, Ct));
        var last = await log.ReadAsync(expected[^1], filter, 10, Ct);
        Assert.Empty(last.Events);
        Assert.Equal(300, last.ScannedTo);
    }

    [Fact]
    public async Task A_read_model_can_ask_for_only_the_types_it_reads()
    {
        var log = await Db.OpenAsync("hq");
        await log.AppendBatchAsync([.. Enumerable.Range(1, 30).Select(i => Event(key: $"k{i}") with { Type = i % 3 == 0 ? "SaleCompleted" : "SimulatedSale", Version = i % 2 + 1 })], cancellationToken: Ct);
        var filter = new ReadFilter { Topics = ["sales"], Types = ["SaleCompleted"] };

        var read = await ReadAllAsync(log, filter, page: 4);

        Assert.Equal(Enumerable.Range(1, 30).Where(i => i % 3 == 0).Select(i => (long)i), read.Select(e => e.Seq));
        Assert.Equal([2, 1, 2, 1, 2, 1, 2, 1, 2, 1], read.Select(e => e.Version)); // every version of the type
        Assert.Equal(10, await log.CountAsync(0, filter, Ct));
        Assert.True(read.All(filter.Matches));
    }

    [Fact]
    public async Task A_read_model_of_a_rare_type_finds_each_of_its_events_among_many_others()
    {
        var log = await Db.OpenAsync("hq");
        // Stock counts among sales, further apart than the sales between them (PostgreSQL: more than one stretch).
        await AppendSalesAsync(log, 12_000);
        await log.AppendAsync(Event(topic: "stock", key: "c1") with { Type = "StockCounted" }, Ct);
        await AppendSalesAsync(log, 12_000);
        await log.AppendAsync(Event(topic: "stock", key: "c2") with { Type = "StockCounted" }, Ct);
        await log.AppendAsync(Event(topic: "sales", key: "same type, other topic") with { Type = "StockCounted" }, Ct);
        await AppendSalesAsync(log, 100);

        Assert.Equal([12_001L, 24_002L], (await ReadAllAsync(log, new ReadFilter { Topics = ["stock"], Types = ["StockCounted"] })).Select(e => e.Seq));
        Assert.Equal([12_001L, 24_002L], (await ReadAllAsync(log, new ReadFilter { Topics = ["stock"] })).Select(e => e.Seq));
        Assert.Equal([12_001L, 24_002L, 24_003L], (await ReadAllAsync(log, new ReadFilter { Types = ["StockCounted"] })).Select(e => e.Seq));
        Assert.Equal(24_100, (await ReadAllAsync(log, new ReadFilter { Topics = ["sales"], Types = ["SaleCompleted"] }, page: 5_000)).Count);

        // Read page by page from anywhere, as a read model does: each page goes on after the last one scanned.
        var page = await log.ReadAsync(12_001, new ReadFilter { Topics = ["stock"] }, 10, Ct);
        Assert.Equal(24_002, Assert.Single(page.Events).Seq);
        var past = await log.ReadAsync(24_002, new ReadFilter { Topics = ["stock"] }, 10, Ct);
        Assert.Empty(past.Events);
        Assert.Equal(log.Head, past.ScannedTo);
    }

    internal static async Task AppendSalesAsync(IEventLog log, int count)
    {
        for (var from = 0; from < count; from += 1000)
        {
            await log.AppendBatchAsync([.. Enumerable.Range(from, Math.Min(1000, count - from)).Select(i => Event(key: $"s{i}"))], cancellationToken: Ct);
        }
    }

    [Fact]
    public async Task A_tail_is_woken_by_a_commit()
    {
        var log = await Db.OpenAsync("hq");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var tail = Task.Run(async () =>
        {
            var seen = new List<long>();
            await foreach (var e in log.TailAsync(0, ReadFilter.ForTopics("prices"), timeout.Token))
            {
                seen.Add(e.Seq);
                if (seen.Count == 2)
                {
                    return seen;
                }
            }

            return seen;
        }, Ct);

        await log.AppendAsync(Event(topic: "sales"), Ct);
        await log.AppendAsync(Event(topic: "prices"), Ct);
        await Task.Delay(100, Ct);
        await log.AppendAsync(Event(topic: "prices"), Ct);

        Assert.Equal([2L, 3L], await tail);
    }

    [Fact]
    public async Task A_read_model_and_its_checkpoint_commit_together_or_not_at_all()
    {
        var log = await Db.OpenAsync("hq");
        await log.CreateTablesAsync("CREATE TABLE IF NOT EXISTS totals(store TEXT PRIMARY KEY, amount BIGINT NOT NULL)", Ct);
        await using (var tx = await log.BeginTransactionAsync(Ct))
        {
            await tx.ExecuteAsync("INSERT INTO totals(store, amount) VALUES(@store, @amount)", Ct, ("@store", "s1"), ("@amount", 5L));
            await tx.SetCursorAsync("consumer:totals", CursorKind.Consumer, 7, Ct);
            await tx.CommitAsync(Ct);
        }

        await using (var tx = await log.BeginTransactionAsync(LogDurability.Normal, Ct))
        {
            await tx.ExecuteAsync("UPDATE totals SET amount = amount + 1 WHERE store = @store", Ct, ("@store", "s1"));
            await tx.SetCursorAsync("consumer:totals", CursorKind.Consumer, 8, Ct);
            await tx.ParkAsync(new DeadLetter("totals", 8, "sales", "SaleCompleted.v1", 3, "boom", default), Ct);

            // Disposed without commit: rolled back.
        }

        await using var connection = await log.OpenReadConnectionAsync(Ct);
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT amount FROM totals WHERE store = 's1'";
        Assert.Equal(5L, Convert.ToInt64(await read.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(7, await log.GetCursorAsync("consumer:totals", Ct));
        Assert.Empty(await log.GetDeadLettersAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Parked_events_are_listed_and_counted()
    {
        var log = await Db.OpenAsync("hq");
        await log.AppendAsync(Event(), Ct);
        await using (var tx = await log.BeginTransactionAsync(Ct))
        {
            await tx.ParkAsync(new DeadLetter("totals", 1, "sales", "SaleCompleted.v9", 3, "version 9 is newer than this software", default), Ct);
            await tx.ParkAsync(new DeadLetter("other", 1, "sales", "SaleCompleted.v9", 1, "no", default), Ct);
            await tx.CommitAsync(Ct);
        }

        var letter = Assert.Single(await log.GetDeadLettersAsync("totals", Ct));
        Assert.Equal(("totals", 1L, "SaleCompleted.v9", 3, Db.Time.GetUtcNow()), (letter.Consumer, letter.Seq, letter.Type, letter.Attempts, letter.ParkedAt));
        Assert.Equal(2, (await log.GetDeadLettersAsync(cancellationToken: Ct)).Count);

        var stats = await log.GetStatsAsync(Ct);
        Assert.Equal((1L, 1L, 2L), (stats.Head, stats.Events, stats.DeadLetters));
        Assert.Equal(("sales", 1L), (stats.Topics[0].Topic, stats.Topics[0].Events));

        // The latest first, bounded: a later park of another event comes before both.
        Db.Time.Advance(TimeSpan.FromMinutes(1));
        await using (var tx = await log.BeginTransactionAsync(Ct))
        {
            await tx.ParkAsync(new DeadLetter("totals", 7, "sales", "SaleCompleted.v9", 3, "later", default), Ct);
            await tx.CommitAsync(Ct);
        }

        var latest = await log.GetLatestDeadLettersAsync(2, Ct);
        Assert.Equal(3, latest.Total);
        Assert.Equal([("totals", 7L), ("other", 1L)], latest.Latest.Select(l => (l.Consumer, l.Seq)));
        Assert.Empty((await log.GetLatestDeadLettersAsync(0, Ct)).Latest);
    }

    [Fact]
    public async Task Retention_compacts_a_state_topic_to_the_newest_event_per_key_and_evicts_over_budget()
    {
        var topics = new TopicCatalog([
            new TopicPolicy("prices", TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),
            new TopicPolicy("telemetry", TopicDirection.Local, TopicPriority.Low, RetentionPolicy.Budget(100, TimeSpan.FromDays(365)))]);
        var log = await Db.OpenAsync("hq", topics);
        for (var i = 0; i < 6; i++)
        {
            await log.AppendAsync(Event(topic: "prices", key: $"p{i % 2}", json: $$"""{"v":{{i}}}"""), Ct);
        }

        await log.AppendBatchAsync([.. Enumerable.Range(0, 10).Select(i => Event(topic: "telemetry", key: $"d{i}", json: $$"""{"pad":"{{new string('x', 20)}}"}"""))], cancellationToken: Ct);
        await log.SetCursorAsync("consumer:all", CursorKind.Consumer, log.Head, Ct);

        var report = await log.ApplyRetentionAsync(Ct);

        Assert.Equal(4, report.Compacted["prices"]);
        Assert.True(report.Evicted["telemetry"] >= 7);
        var prices = await ReadAllAsync(log, ReadFilter.ForTopics("prices"));
        Assert.Equal([5L, 6L], prices.Select(e => e.Seq));
        var stats = await log.GetStatsAsync(Ct);
        var telemetry = stats.Topics.Single(t => t.Topic == "telemetry");
        Assert.True(telemetry.PayloadBytes <= 100);
        Assert.Equal(report.Evicted["telemetry"], telemetry.EvictedEvents);
    }

    [Fact]
    public async Task An_event_recorded_in_a_traced_span_carries_that_span_and_a_replica_keeps_the_trace_it_came_with()
    {
        var log = await Db.OpenAsync("s1");
        var ended = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Diagnostics.OutpostTracing.SourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = ended.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        const string Elsewhere = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        var untraced = await log.AppendAsync(Event(key: "before"), Ct);
        string till;
        using (var span = Diagnostics.OutpostTracing.Source.StartActivity("till request"))
        {
            till = span!.Id!;
            await log.AppendBatchAsync([Event(key: "sale"), Event(key: "replica", origin: From("s9", 1)) with { TraceParent = Elsewhere }, Event(key: "given") with { TraceParent = Elsewhere }],
                cancellationToken: Ct);
            var refused = await Assert.ThrowsAsync<InvalidEventException>(async () => await log.AppendAsync(Event(key: "bad") with { TraceParent = "00-not-a-trace" }, Ct));
            Assert.Contains("traceparent", refused.Message, StringComparison.Ordinal);
        }

        var events = (await ReadAllAsync(log)).ToDictionary(e => e.Key);
        Assert.Equal(4, events.Count); // the refused event wrote nothing
        Assert.Null(events["before"].TraceParent);
        Assert.Equal(till, events["sale"].TraceParent);
        Assert.Equal(Elsewhere, events["replica"].TraceParent);
        Assert.Equal(Elsewhere, events["given"].TraceParent);
        Assert.Equal(1, untraced.Seq);

        // The durable append is a span of the caller's trace, with what it wrote.
        var append = Assert.Single(ended, a => a.OperationName == "outpost.log append" && a.ParentId == till);
        Assert.Equal(3, append.GetTagItem("outpost.events"));
    }

    [Fact]
    public async Task A_log_the_previous_release_wrote_without_trace_contexts_opens_reads_its_records_and_takes_traced_ones()
    {
        var log = await Db.OpenAsync("s1");
        await log.AppendAsync(Event(key: "old"), Ct);
        await using (var connection = await log.OpenReadConnectionAsync(Ct))
        await using (var drop = connection.CreateCommand())
        {
            drop.CommandText = "ALTER TABLE events DROP COLUMN trace";
            await drop.ExecuteNonQueryAsync(Ct);
        }

        await Db.CloseAsync(log);
        var reopened = await Db.OpenAsync("s1");
        await reopened.AppendAsync(Event(key: "new") with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }, Ct);
        var events = await ReadAllAsync(reopened);
        Assert.Equal([("old", (string?)null), ("new", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")], events.Select(e => (e.Key, e.TraceParent)));
    }

    [Fact]
    public async Task A_damaged_record_is_refused_by_name_and_counted_never_served()
    {
        var log = await Db.OpenAsync("hq");
        await log.AppendBatchAsync([Event(key: "a"), Event(key: "b"), Event(key: "c")], cancellationToken: Ct);

        await Db.TamperAsync(log, 2);

        var ex = await Assert.ThrowsAsync<LogCorruptionException>(async () => await log.ReadAsync(0, ReadFilter.All, 10, Ct));
        Assert.Equal(2, ex.Seq);
        Assert.Contains("Event 2 is corrupt", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, log.CorruptRecordsSeen);
        var first = await log.ReadAsync(0, ReadFilter.All, 1, Ct);
        Assert.Equal("a", Assert.Single(first.Events).Key);
    }
}

public sealed class SqliteLogContract : LogContract
{
    protected override Task<Backend> CreateBackendAsync() => Task.FromResult<Backend>(new SqliteBackend());
}

public sealed class PostgresLogContract(PostgresServer server) : LogContract
{
    protected override async Task<Backend> CreateBackendAsync() => new PostgresBackend(await server.CreateDatabaseAsync(Ct));
}
