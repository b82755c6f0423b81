using Npgsql;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Testing;

namespace Outpost.Core.Postgres.Tests;

/// <summary>
/// The writer stages a group ahead of the <c>log_head</c> lock while the group before commits: what is staged is
/// invisible until it commits, commits in order, finds duplicates among what the group before placed, and is
/// rolled back and written again when another writer got ahead of it, without waiting on that writer for ever.
/// </summary>
public sealed class StagedWriteTests(PostgresServer server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Staged_groups_are_invisible_until_each_commits_after_the_one_before_and_find_the_duplicates_the_uncommitted_ones_before_placed()
    {
        await using var started = await StartedAsync();
        var (connectionString, writer) = (started.ConnectionString, started.Writer);
        using var meter = new StagedMeter(PostgresEventLog.NameOf(started.Source));
        var second = Request("store-1", 101, 200);
        var secondStaged = writer.TryStage([second]);
        Assert.NotNull(secondStaged);
        PostgresLogWriter.Copy(secondStaged);

        // Resent while the group that placed them is not committed yet: 150..200 are that group's, 201..250 new.
        var third = Request("store-1", 150, 250);
        var thirdStaged = writer.TryStage([third]);
        Assert.NotNull(thirdStaged);
        PostgresLogWriter.Copy(thirdStaged);
        Assert.Equal(Enumerable.Range(101, 100).Select(s => (long)s), second.Results.Select(r => r.Seq));
        Assert.All(third.Results.Take(51), r => Assert.True(r.Duplicate));
        Assert.Equal(Enumerable.Range(150, 51).Select(s => (long)s), third.Results.Take(51).Select(r => r.Seq));
        Assert.Equal(Enumerable.Range(201, 50).Select(s => (long)s), third.Results.Skip(51).Select(r => r.Seq));

        // With both still uncommitted: 120..250 are theirs, 251..300 new.
        var fourth = Request("store-1", 120, 300);
        var fourthStaged = writer.TryStage([fourth]);
        Assert.NotNull(fourthStaged);
        PostgresLogWriter.Copy(fourthStaged);
        Assert.All(fourth.Results.Take(131), r => Assert.True(r.Duplicate));
        Assert.Equal(Enumerable.Range(120, 131).Select(s => (long)s), fourth.Results.Take(131).Select(r => r.Seq));
        Assert.Equal(Enumerable.Range(251, 50).Select(s => (long)s), fourth.Results.Skip(131).Select(r => r.Seq));
        Assert.Equal((100L, 100L), await CountAsync(connectionString));

        Assert.Equal(200, writer.TryFinish(secondStaged));
        Assert.Equal((200L, 200L), await CountAsync(connectionString));
        Assert.Equal(250, writer.TryFinish(thirdStaged));
        Assert.Equal(300, writer.TryFinish(fourthStaged));

        Assert.Equal((300L, 300L), await CountAsync(connectionString));
        Assert.Equal(Enumerable.Range(1, 300).Select(s => (long)s), await OriginSeqsAsync(connectionString, "store-1"));
        Assert.Equal((300L, 300L), await PositionsAsync(connectionString, "store-1"));
        Assert.Equal((3L, 0L), meter.Counts);
    }

    [Fact]
    public async Task A_staged_group_another_writer_got_ahead_of_is_refused_rolled_back_and_written_again_after_it()
    {
        await using var started = await StartedAsync();
        var (connectionString, source, writer) = (started.ConnectionString, started.Source, started.Writer);
        using var meter = new StagedMeter(PostgresEventLog.NameOf(source));
        var staged = writer.TryStage([Request("store-2", 1, 50)]);
        Assert.NotNull(staged);
        PostgresLogWriter.Copy(staged);

        // Another node locks the head and writes sequence 101 on: it waits on the staged row 101, holding the lock.
        var other = Writer(source, head: 100);
        var otherCommit = Task.Run(() => other.Commit([Request("store-3", 1, 10)]), Ct);
        await WaitForLockWaitAsync(connectionString);

        // The staged group cannot take the lock: refused and rolled back, which lets the other writer through.
        Assert.Null(writer.TryFinish(staged));
        Assert.Equal(110, await otherCommit.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        var again = Request("store-2", 1, 50);
        Assert.Equal(160, writer.Commit([again]));
        Assert.Equal(Enumerable.Range(111, 50).Select(s => (long)s), again.Results.Select(r => r.Seq));

        Assert.Equal((160L, 160L), await CountAsync(connectionString));
        Assert.Equal(Enumerable.Range(1, 50).Select(s => (long)s), await OriginSeqsAsync(connectionString, "store-2"));
        Assert.Equal((0L, 1L), meter.Counts);

        // Refused, the prediction is gone: the next group goes lock first (nothing to stage on).
        Assert.Null(writer.TryStage([Request("store-2", 51, 60)]));
    }

    [Fact]
    public async Task Only_the_head_rows_lock_is_taken_without_waiting_the_rest_of_a_staged_commit_waits_as_usual()
    {
        await using var started = await StartedAsync();
        var (connectionString, writer) = (started.ConnectionString, started.Writer);
        var staged = writer.TryStage([Request("store-1", 101, 200)]);
        Assert.NotNull(staged);
        PostgresLogWriter.Copy(staged);

        // Someone holds the store's position row for a moment (as the commit's server-wide notify lock can be held
        // by another database's commit): finishing waits for it instead of refusing the group.
        await using var holder = new NpgsqlConnection(connectionString);
        await holder.OpenAsync(Ct);
        await using var hold = await holder.BeginTransactionAsync(Ct);
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM nodes WHERE name = 'store-1' FOR UPDATE", holder, hold))
        {
            await lockRow.ExecuteScalarAsync(Ct);
        }

        var finishing = Task.Run(() => writer.TryFinish(staged), Ct);
        await WaitForLockWaitAsync(connectionString, "finishing the staged group, on the held row,");
        await Task.Delay(50, Ct);
        await hold.CommitAsync(Ct);

        Assert.Equal(200, await finishing.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal((200L, 200L), await CountAsync(connectionString));
    }

    [Fact]
    public async Task A_staged_copy_that_meets_another_writers_rows_fails_within_its_lock_timeout_instead_of_waiting_on_a_writer_that_waits_on_it()
    {
        await using var started = await StartedAsync();
        var (connectionString, source, writer) = (started.ConnectionString, started.Source, started.Writer);
        var first = writer.TryStage([Request("store-2", 1, 50)]);
        var second = writer.TryStage([Request("store-2", 51, 100)]);
        Assert.NotNull(first);
        Assert.NotNull(second);
        PostgresLogWriter.Copy(second);

        // Another node takes the lock and writes 101..160: it waits on the second group's row 151, and the second
        // group commits only after the first. The first group's copy then meets that node's row 101.
        var other = Writer(source, head: 100);
        var otherCommit = Task.Run(() => other.Commit([Request("store-3", 1, 60)]), Ct);
        await WaitForLockWaitAsync(connectionString);
        var failure = await Assert.ThrowsAsync<PostgresException>(() => Task.Run(() => PostgresLogWriter.Copy(first), Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, failure.SqlState);

        // Finishing it refuses it; rolling back the group staged behind it lets the other node through.
        first.CopyFailure = failure;
        Assert.Null(writer.TryFinish(first));
        second.Dispose();
        Assert.Equal(160, await otherCommit.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(260, writer.Commit([Request("store-2", 1, 100)]));
        Assert.Equal((260L, 260L), await CountAsync(connectionString));
    }

    [Fact]
    public async Task A_node_staging_under_load_while_another_node_appends_keeps_one_gap_free_order_with_every_event_once()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var busy = (PostgresEventLog)await db.OpenAsync("hq");
        var other = (PostgresEventLog)await db.OpenAsync("hq");
        using var meter = new StagedMeter(PostgresEventLog.NameOf(busy.DataSource));
        const int stores = 8;
        const int batches = 30;
        const int batch = 200;

        // Alone, the second group is staged on what the first (lock first) left.
        await busy.AppendBatchAsync([.. Enumerable.Range(1, batch).Select(seq => LogContract.Event(origin: LogContract.From("warm", seq)))], cancellationToken: Ct);
        await busy.AppendBatchAsync([.. Enumerable.Range(batch + 1, batch).Select(seq => LogContract.Event(origin: LogContract.From("warm", seq)))], cancellationToken: Ct);
        Assert.Equal((1L, 0L), meter.Counts);

        var ingest = Task.WhenAll(Enumerable.Range(0, stores).Select(store => Task.Run(async () =>
        {
            for (var b = 0; b < batches; b++)
            {
                var events = Enumerable.Range(b * batch + 1, batch).Select(seq => LogContract.Event(key: $"s{store}-{seq}", origin: LogContract.From($"store-{store}", seq))).ToList();
                await busy.AppendBatchAsync(events, cancellationToken: Ct);
            }
        }, Ct)));
        var local = Task.Run(async () =>
        {
            for (var n = 0; n < 60; n++)
            {
                await other.AppendAsync(LogContract.Event(topic: "prices", key: $"p{n}", scope: Scope.All), Ct);
            }
        }, Ct);
        await Task.WhenAll(ingest, local).WaitAsync(TimeSpan.FromMinutes(3), Ct);

        var total = 2 * batch + stores * batches * batch + 60;
        var events = await LogContract.ReadAllAsync(other, page: 5_000);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), events.Select(e => e.Seq));
        for (var store = 0; store < stores; store++)
        {
            Assert.Equal(batches * batch, await busy.GetContiguousOriginSeqAsync(NodeId.Parse($"store-{store}"), Ct));
            Assert.Equal(Enumerable.Range(1, batches * batch).Select(i => (long)i), events.Where(e => e.Origin.Node.Value == $"store-{store}").Select(e => e.Origin.Seq).Order());
        }

        Assert.Equal(2 * batch, await busy.GetContiguousOriginSeqAsync(NodeId.Parse("warm"), Ct));
        Assert.Equal(60, events.Count(e => e.Topic == "prices"));
    }

    [Fact]
    public async Task Two_nodes_ingesting_at_once_and_both_receiving_the_same_stores_batches_keep_one_order_with_every_event_once()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var nodes = new[] { (PostgresEventLog)await db.OpenAsync("hq"), (PostgresEventLog)await db.OpenAsync("hq") };
        const int stores = 6;
        const int batches = 20;
        const int batch = 250;

        // Every store's batches go to both nodes (a store retrying through a balancer), in their own order on each.
        await Task.WhenAll(Enumerable.Range(0, stores * 2).Select(sender => Task.Run(async () =>
        {
            var store = sender % stores;
            var node = nodes[sender / stores];
            for (var b = 0; b < batches; b++)
            {
                var events = Enumerable.Range(b * batch + 1, batch).Select(seq => LogContract.Event(key: $"s{store}-{seq}", origin: LogContract.From($"store-{store}", seq))).ToList();
                await node.AppendBatchAsync(events, cancellationToken: Ct);
            }
        }, Ct))).WaitAsync(TimeSpan.FromMinutes(3), Ct);

        var events = await LogContract.ReadAllAsync(nodes[0], page: 5_000);
        Assert.Equal(Enumerable.Range(1, stores * batches * batch).Select(i => (long)i), events.Select(e => e.Seq));
        for (var store = 0; store < stores; store++)
        {
            Assert.Equal(Enumerable.Range(1, batches * batch).Select(i => (long)i), events.Where(e => e.Origin.Node.Value == $"store-{store}").Select(e => e.Origin.Seq).Order());
            Assert.Equal(batches * batch, await nodes[1].GetContiguousOriginSeqAsync(NodeId.Parse($"store-{store}"), Ct));
        }
    }

    private static PostgresLogWriter Writer(NpgsqlDataSource source, long head) =>
        new(source, new HybridLogicalClock(TimeProvider.System), NodeId.Parse("hq"), LogDurability.Full, head, PostgresEventLog.NameOf(source));

    private static AppendRequest Request(string store, long from, long to)
    {
        var events = Enumerable.Range((int)from, (int)(to - from + 1)).Select(seq => LogContract.Event(key: $"{store}-{seq}", origin: LogContract.From(store, seq))).ToList();
        var request = AppendRequest.Batch(events, null, EventValidator.DefaultMaxEventBytes, NodeId.Parse("hq"))!;
        request.Prepared = PostgresCopyRows.Encode(request.Events, TopicCatalog.Empty);
        return request;
    }

    /// <summary>Counts <c>outpost.log.staged</c> by outcome for one log, from now on.</summary>
    private sealed class StagedMeter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new();

        public StagedMeter(string log)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "outpost.log.staged")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? name = null, outcome = null;
                foreach (var tag in tags)
                {
                    name = tag.Key == "log" ? tag.Value as string : name;
                    outcome = tag.Key == "outcome" ? tag.Value as string : outcome;
                }

                if (name == log && outcome is not null)
                {
                    _counts.AddOrUpdate(outcome, value, (_, sum) => sum + value);
                }
            });
            _listener.Start();
        }

        public (long Committed, long Refused) Counts => (_counts.GetValueOrDefault("committed"), _counts.GetValueOrDefault("refused"));

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A migrated database and a writer that has committed store-1's 1..100 lock first, leaving a prediction.</summary>
    private async Task<Started> StartedAsync()
    {
        var connectionString = await server.CreateDatabaseAsync(Ct);
        await using (await PostgresEventLog.OpenAsync(connectionString, new LogOptions { NodeId = "hq" }, cancellationToken: Ct))
        {
        }

        var source = NpgsqlDataSource.Create(connectionString);
        var writer = Writer(source, head: 0);
        Assert.Equal(100, writer.Commit([Request("store-1", 1, 100)], predict: true));
        return new Started(connectionString, source, writer);
    }

    private sealed record Started(string ConnectionString, NpgsqlDataSource Source, PostgresLogWriter Writer) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Source.DisposeAsync();
    }

    private static async Task<(long Count, long Head)> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var count = new NpgsqlCommand("SELECT (SELECT count(*) FROM events), (SELECT seq FROM log_head)", connection);
        await using var reader = await count.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<List<long>> OriginSeqsAsync(string connectionString, string store)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var read = new NpgsqlCommand("SELECT e.origin_seq FROM events e JOIN nodes n ON n.id = e.origin_id WHERE n.name = $1 ORDER BY e.origin_seq", connection)
        {
            Parameters = { new() { Value = store } },
        };
        await using var reader = await read.ExecuteReaderAsync(Ct);
        var seqs = new List<long>();
        while (await reader.ReadAsync(Ct))
        {
            seqs.Add(reader.GetInt64(0));
        }

        return seqs;
    }

    private static async Task<(long Contiguous, long Max)> PositionsAsync(string connectionString, string store)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var read = new NpgsqlCommand("SELECT contiguous_seq, max_seq FROM nodes WHERE name = $1", connection) { Parameters = { new() { Value = store } } };
        await using var reader = await read.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Until some backend waits on a lock (bounded: 10 s); <paramref name="waiter"/> names who should, for the failure.</summary>
    private static async Task WaitForLockWaitAsync(string connectionString, string waiter = "the other writer, on the staged rows,")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            await using var waiting = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
            if ((long)(await waiting.ExecuteScalarAsync(Ct))! > 0)
            {
                return;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Fail($"{waiter} never came to wait on a lock");
    }
}
