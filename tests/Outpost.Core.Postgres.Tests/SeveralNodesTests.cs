using Npgsql;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Testing;

namespace Outpost.Core.Postgres.Tests;

/// <summary>Several HQ nodes on one PostgreSQL database: one log, one order, wake-ups across nodes.</summary>
public sealed class SeveralNodesTests(PostgresServer server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_nodes_sharing_the_hq_id_append_at_once_into_one_gap_free_order_with_unique_origin_sequences()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var a = await db.OpenAsync("hq");
        var b = await db.OpenAsync("hq");

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var log = w % 2 == 0 ? a : b;
            for (var n = 0; n < 40; n++)
            {
                await log.AppendAsync(LogContract.Event(key: $"w{w}"), Ct);
            }
        }, Ct)));

        var events = await LogContract.ReadAllAsync(a);
        Assert.Equal(Enumerable.Range(1, 320).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal(Enumerable.Range(1, 320).Select(i => (long)i), events.Select(e => e.Origin.Seq).Order());
        Assert.True(events.Zip(events.Skip(1)).All(p => p.Second.Origin.Timestamp > p.First.Origin.Timestamp), "clock order follows sequence order");
    }

    [Fact]
    public async Task A_node_knows_a_store_s_contiguous_position_as_of_its_own_last_commit_of_it_and_never_above_what_the_database_holds()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var a = await db.OpenAsync("hq");
        var b = await db.OpenAsync("hq");
        var store = NodeId.Parse("store-1");
        List<NewEvent> Batch(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(i => LogContract.Event(origin: LogContract.From("store-1", i)))];

        Assert.Null(a.KnownContiguousOriginSeq(store));

        // What HQ answers a store after storing its batch comes from the commit itself, no read.
        await a.AppendBatchAsync(Batch(1, 100), cancellationToken: Ct);
        Assert.Equal(100, a.KnownContiguousOriginSeq(store));

        // 151-200 arrive on this node before 101-150 (a gap): the position stays where the gap starts.
        await a.AppendBatchAsync(Batch(151, 200), cancellationToken: Ct);
        Assert.Equal(100, a.KnownContiguousOriginSeq(store));

        // The store moves to the other node, which fills the gap: this node's knowledge lags, never runs ahead.
        await b.AppendBatchAsync(Batch(101, 150), cancellationToken: Ct);
        Assert.Equal(200, b.KnownContiguousOriginSeq(store));
        Assert.Equal(100, a.KnownContiguousOriginSeq(store));
        Assert.Equal(200, await a.GetContiguousOriginSeqAsync(store, Ct));

        // Its next commit of the store's events brings it up to date, the other node's included.
        await a.AppendBatchAsync(Batch(201, 210), cancellationToken: Ct);
        Assert.Equal(210, a.KnownContiguousOriginSeq(store));
        Assert.Equal(210, await b.GetContiguousOriginSeqAsync(store, Ct));
    }

    [Fact]
    public async Task The_same_store_batch_ingested_by_two_nodes_at_once_is_stored_once()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var a = await db.OpenAsync("hq");
        var b = await db.OpenAsync("hq");
        var batch = Enumerable.Range(1, 500).Select(i => LogContract.Event(origin: LogContract.From("store-1", i))).ToList();

        var results = await Task.WhenAll(a.AppendBatchAsync(batch, cancellationToken: Ct).AsTask(), b.AppendBatchAsync(batch, cancellationToken: Ct).AsTask());

        Assert.Equal(500, results.SelectMany(r => r).Count(r => !r.Duplicate));
        Assert.Equal(500, (await LogContract.ReadAllAsync(b)).Count);
        Assert.Equal(500, await b.GetContiguousOriginSeqAsync(NodeId.Parse("store-1"), Ct));
    }

    [Fact]
    public async Task A_wait_on_one_node_wakes_when_another_node_appends()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var a = await db.OpenAsync("hq");
        var b = await db.OpenAsync("hq");
        await a.AppendAsync(LogContract.Event(), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3)); // under the 5 s head refresh: only the notification can wake it in time
        await WaitUntilAsync(() => b.Head == 1);

        var waiting = b.WaitForAppendAsync(1, timeout.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await a.AppendAsync(LogContract.Event(topic: "prices", scope: Scope.Region("north")), Ct);
        await waiting;

        Assert.Equal(2, b.Head);
        var page = await b.ReadAsync(1, new ReadFilter { Topics = ["prices"], Scopes = [Scope.All, Scope.Region("north")] }, 10, Ct);
        Assert.Equal(2, Assert.Single(page.Events).Seq);
    }

    [Fact]
    public async Task The_writer_keeps_where_each_topic_and_type_lies_so_a_read_model_skips_the_rest()
    {
        var connectionString = await server.CreateDatabaseAsync(Ct);
        await using var db = new PostgresBackend(connectionString);
        var log = await db.OpenAsync("hq");
        await LogContract.AppendSalesAsync(log, 12_000);
        await log.AppendAsync(LogContract.Event(topic: "stock", key: "c1") with { Type = "StockCounted" }, Ct);
        await LogContract.AppendSalesAsync(log, 12_000);
        await log.AppendAsync(LogContract.Event(topic: "stock", key: "c2") with { Type = "StockCounted" }, Ct);
        await log.AppendAsync(LogContract.Event(topic: "stock", key: "c3") with { Type = "StockCounted" }, Ct);

        // Sales arrive in every commit: one stretch. Stock counts 12,000 apart: two; the third extends the second.
        Assert.Equal([("sales", "SaleCompleted", 1L, 24_001L), ("stock", "StockCounted", 12_001L, 12_001L), ("stock", "StockCounted", 24_002L, 24_003L)],
            await StretchesAsync(connectionString));

        // A log written before stretches existed gets one per pair over all it holds, and reads as before.
        await db.CloseAsync(log);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(Ct);
            await using var downgrade = new NpgsqlCommand("DROP TABLE log_stretches; DROP TABLE topic_floors; DELETE FROM outpost_migrations WHERE version >= 2", connection);
            await downgrade.ExecuteNonQueryAsync(Ct);
        }

        var upgraded = await db.OpenAsync("hq");
        Assert.Equal([("sales", "SaleCompleted", 1L, 24_001L), ("stock", "StockCounted", 12_001L, 24_003L)], await StretchesAsync(connectionString));
        Assert.Equal([12_001L, 24_002L, 24_003L], (await LogContract.ReadAllAsync(upgraded, new ReadFilter { Topics = ["stock"] })).Select(e => e.Seq));
    }

    private static async Task<List<(string, string, long, long)>> StretchesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var read = new NpgsqlCommand("SELECT topic, type, seq_from, seq_to FROM log_stretches ORDER BY topic, type, seq_from", connection);
        await using var reader = await read.ExecuteReaderAsync(Ct);
        var stretches = new List<(string, string, long, long)>();
        while (await reader.ReadAsync(Ct))
        {
            stretches.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return stretches;
    }

    [Fact]
    public async Task A_database_migrated_by_newer_software_is_refused_with_its_version()
    {
        var connectionString = await server.CreateDatabaseAsync(Ct);
        await using (var db = new PostgresBackend(connectionString))
        {
            await db.OpenAsync("hq");
        }

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(Ct);
            await using var bump = new NpgsqlCommand("INSERT INTO outpost_migrations(version) VALUES (99)", connection);
            await bump.ExecuteNonQueryAsync(Ct);
        }

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresEventLog.OpenAsync(connectionString, new LogOptions { NodeId = "hq" }, cancellationToken: Ct));
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_fails_the_append_with_the_reason_and_the_log_carries_on_when_it_returns()
    {
        await using var db = new PostgresBackend(await server.CreateDatabaseAsync(Ct));
        var log = await db.OpenAsync("hq");
        await log.AppendAsync(LogContract.Event(), Ct);
        var database = new NpgsqlConnectionStringBuilder(db.ConnectionString).Database;

        // Refuse new connections to this database and end the open ones, as a failover would.
        await using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            await admin.OpenAsync(Ct);
            await using var block = new NpgsqlCommand($"ALTER DATABASE {database} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'", admin);
            await block.ExecuteNonQueryAsync(Ct);
        }

        NpgsqlConnection.ClearAllPools();
        await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await log.AppendAsync(LogContract.Event(key: "lost?"), Ct));

        await using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            await admin.OpenAsync(Ct);
            await using var allow = new NpgsqlCommand($"ALTER DATABASE {database} ALLOW_CONNECTIONS true", admin);
            await allow.ExecuteNonQueryAsync(Ct);
        }

        var after = await log.AppendAsync(LogContract.Event(key: "after"), Ct);
        Assert.Equal(2, after.Seq);
        Assert.Equal(["k1", "after"], (await LogContract.ReadAllAsync(log)).Select(e => e.Key));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(condition(), "condition not met within 10 s");
    }
}
