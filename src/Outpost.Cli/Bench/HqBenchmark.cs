using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Outpost.Central.Admin;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Core.Postgres;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Bench;

/// <summary>
/// HQ on PostgreSQL, as its own process (<c>outpost central --postgres</c>) on this machine: ingest of store
/// events through the sync endpoint beside raw binary COPY of the same rows (the limit), then thousands of stores
/// holding down-feed long polls while HQ publishes price changes: delivery latency, HQ memory and CPU.
/// </summary>
internal sealed class HqBenchmark(TextWriter output, string? postgres, int events, int senders, int pollers, int changes, int nodeCount, int pollerProcesses, int changeEveryMs = 1000)
{
    private const string AdminToken = "bench-admin";
    /// <summary>The store's agent as shipped: what it sends at most in one batch, and how many batches it keeps in flight.</summary>
    private static readonly SyncClientOptions Agent = new();
    private static readonly int Batch = Agent.MaxBatchEvents;
    private static readonly int InFlight = Agent.MaxInFlight;

    /// <summary>Stores in the lunch peak phase (those registered beyond the ingest's, at most this many): a tenth of <see cref="PeakPhase.FleetStores"/>.</summary>
    private const int PeakStores = 2000;

    /// <summary>
    /// This run's mark in the names of the stores it registers and appends as: with <c>--postgres</c>, a database
    /// used by an earlier run already holds that run's stores and events, and this one must not find them.
    /// </summary>
    private readonly string _run = DateTime.UtcNow.ToString("yyMMddHHmmss", CultureInfo.InvariantCulture);
    private IReadOnlyList<(string Name, Func<TimeSpan> Cpu)> _postgresCpu = [];
    private IReadOnlyList<IssuedCredential> _stores = [];
    private PostgresWork _rawIndexedWork = new(0, 0, 0, 0, 0, 0);
    private PostgresWork _ingestWork = new(0, 0, 0, 0, 0, 0);
    private bool _unsettled;
    private int? _postmaster;
    private PostgresProcesses? _rawIndexedProcesses;
    private static readonly byte[] Payload = UpSenders.Payload;

    public async Task<HqBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        output.WriteLine($"outpost bench hq: {events:N0} store events through HQ's sync endpoint from {senders} stores, then {pollers:N0} stores following its down feed on {nodeCount} HQ node(s) while HQ publishes {changes} price changes");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        await using var local = postgres is null ? new LocalPostgresServer(durable: true) : null;
        string database;
        string rawDatabase;
        if (local is not null)
        {
            await local.StartAsync();
            output.WriteLine($"  PostgreSQL: a throwaway server on 127.0.0.1:{local.Port} (PostgreSQL defaults: fsync on, synchronous_commit on)");
            database = await local.CreateDatabaseAsync(cancellationToken);
            rawDatabase = await local.CreateDatabaseAsync(cancellationToken);
        }
        else
        {
            database = rawDatabase = postgres!;
            output.WriteLine("  PostgreSQL: the given server (its data is left in place)");
        }

        // Where the CPU goes: PostgreSQL's server and its backends when it is ours to watch, and this process.
        var postgresCpu = local?.ProcessId is { } postmaster ? () => CpuLedger.ProcessTree(postmaster) : (Func<TimeSpan>?)null;
        _postgresCpu = postgresCpu is null ? [] : [("PostgreSQL", postgresCpu)];
        _postmaster = local?.ProcessId;

        // The limit is only the limit with the client's COPY code compiled: a first COPY of the same rows runs with
        // it freshly JIT-compiled (tier 0) and measures the benchmark's own start-up instead (2.1 µs a row in the
        // client, against 1.1 µs warm). HQ gets the same treatment: its warm-up runs until its JIT is done.
        await RawCopyAsync(rawDatabase, indexed: false, cancellationToken);
        output.WriteLine("  warm-up: one untimed binary COPY of the rows, so the client's COPY code is compiled before it is timed");
        var (raw, rawCpu) = await RawCopyAsync(rawDatabase, indexed: false, cancellationToken);
        output.WriteLine($"  raw binary COPY, the log's rows, no index, one stream {raw,12:N0} rows/s   (the physical limit)   {PerRow(rawCpu, events)}");
        var workBefore = await PostgresWork.ReadAsync(rawDatabase, cancellationToken);
        var (rawIndexed, rawIndexedCpu) = await RawCopyAsync(rawDatabase, indexed: true, cancellationToken);
        await Task.Delay(PostgresWork.FlushDelay, cancellationToken);
        _rawIndexedWork = (await PostgresWork.ReadAsync(rawDatabase, cancellationToken)).Since(workBefore);
        output.WriteLine($"  the same with the log's two unique indexes            {rawIndexed,12:N0} rows/s   (sequence, and (origin, origin seq) for idempotence)   {PerRow(rawIndexedCpu, events)}");
        output.WriteLine($"    {_rawIndexedWork.Describe(events)}");
        var (rawParallel, rawParallelCpu) = await RawCopyAsync(rawDatabase, indexed: true, cancellationToken, streams: 2);
        output.WriteLine($"  the same indexed, in two streams at once                {rawParallel,12:N0} rows/s   (what a log writing in parallel could reach here)   {PerRow(rawParallelCpu, events)}");

        var (alone, aloneCpu) = await LogAloneAsync(rawDatabase, cancellationToken);
        output.WriteLine($"  the PostgreSQL log alone, {senders} writers x {InFlight} in flight, in process {alone,10:N0} events/s  {alone / raw,6:P0} of raw COPY   (no HTTP: what the log itself costs)");
        output.WriteLine($"    {aloneCpu.Describe()}");

        var url = $"http://127.0.0.1:{OutpostProcess.FreePort()}";
        // HQ as shipped: outpost's runtime configuration, server GC included.
        await using var hq = OutpostProcess.Start(["central", "--postgres", database + ";Maximum Pool Size=200", "--urls", url, "--admin-token", AdminToken]);
        var result = await MeasureAsync(hq, url, database, raw, rawIndexed, cancellationToken);
        result = result with { IngestWork = _ingestWork, RawIndexedWork = _rawIndexedWork };
        var peakStores = _stores.Skip(senders * 2).Take(PeakStores).ToList();
        if (peakStores.Count > 0)
        {
            var peak = new PeakPhase(output, new Uri(url), peakStores, database, SendingParts(hq), ct => SettleAsync(database, ct));
            result = result with { Peak = await peak.RunAsync(cancellationToken) };
        }

        await using var others = new ProcessList();
        var nodes = new List<(OutpostProcess, HttpClient)> { (hq, Admin(url)) };
        for (var n = 1; n < nodeCount; n++)
        {
            // Another HQ node on the same database, as a load balancer would spread the stores over.
            var other = $"http://127.0.0.1:{OutpostProcess.FreePort()}";
            var process = others.Add(OutpostProcess.Start(["central", "--postgres", database + ";Maximum Pool Size=150", "--urls", other, "--admin-token", AdminToken]));
            var admin = Admin(other);
            await process.WaitUntilReadyAsync(admin, cancellationToken);
            nodes.Add((process, admin));
        }

        var fanOut = await new FanOutPhase(output, nodes, _stores.Take(pollers).ToList(), pollerProcesses, changes, database, TimeSpan.FromMilliseconds(changeEveryMs)).RunAsync(cancellationToken);
        foreach (var (_, admin) in nodes)
        {
            admin.Dispose();
        }

        result = result with
        {
            FanOut = fanOut,
            DeliveryP50Ms = fanOut.DeliveryP50Ms,
            DeliveryP99Ms = fanOut.DeliveryP99Ms,
            DeliveryMaxMs = fanOut.DeliveryMaxMs,
            DeliveriesMissing = (int)fanOut.DeliveriesMissing,
            HeldResidentMiB = fanOut.ResidentMiBByNode.Max(),
            HeldHqCpuPercent = fanOut.CpuPercentByNode.Max(),
        };
        return result with { PhasesSettled = !_unsettled, LogAlonePerSecond = Math.Round(alone), LogAloneRatio = Math.Round(alone / raw, 3), RawIndexedTwoStreamsPerSecond = Math.Round(rawParallel) };
    }

    private static HttpClient Admin(string url)
    {
        var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return admin;
    }

    /// <summary>Who spends CPU while stores send to HQ: HQ, PostgreSQL (when it is ours to watch), the senders (this process).</summary>
    private IReadOnlyList<(string Name, Func<TimeSpan> Cpu)> SendingParts(OutpostProcess hq) =>
        [("HQ", () => hq.CpuTime), .. _postgresCpu, ("the sending stores", () => Environment.CpuUsage.TotalTime)];

    /// <summary>The CPU a phase cost per row, by part, in microseconds.</summary>
    private static string PerRow(CpuReport cpu, long rows) =>
        "CPU per row: " + string.Join(", ", cpu.Parts.Select(p => $"{p.Name} {p.Seconds / rows * 1e6:F1} µs"));

    private async Task<HqBenchResult> MeasureAsync(OutpostProcess hq, string url, string database, double raw, double rawIndexed, CancellationToken cancellationToken)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        await hq.WaitUntilReadyAsync(admin, cancellationToken);
        var stores = Math.Max(senders * 2, pollers);
        var secrets = await RegisterAsync(admin, stores, _run, cancellationToken);
        output.WriteLine($"  HQ: process {hq.Id} on {url}; {stores:N0} stores registered");

        // A long-running HQ has its hot paths compiled and optimised; a fresh process spends its first seconds, and
        // more, in the JIT (tiered compilation instruments hot methods, then re-compiles them with what it saw). Warm
        // it up untimed on other stores, round after round, until the JIT is done: under 2% of a round's time.
        var warmup = Math.Max(senders * Batch, events / 5) / senders * senders;
        var warmed = 0L;
        var rounds = 0;
        double jit;
        var metrics = await ServerMetrics.ScrapeAsync(admin, cancellationToken);
        do
        {
            var round = Stopwatch.StartNew();
            await IngestAsync(new Uri(url), secrets.Skip(senders).Take(senders).ToList(), warmup, warmed / senders + 1, cancellationToken);
            warmed += warmup;
            rounds++;
            var now = await ServerMetrics.ScrapeAsync(admin, cancellationToken);
            jit = now.Since(metrics).JitSeconds;
            metrics = now;
            if (jit <= 0.02 * round.Elapsed.TotalSeconds)
            {
                break;
            }
        }
        while (rounds < 10);

        output.WriteLine($"  warm-up: {rounds} round(s) of {warmup:N0} events from other stores, untimed; HQ's JIT compiled for {jit * 1000:F0} ms in the last");
        await SettleAsync(database, cancellationToken);
        var gcBefore = await ServerMetrics.ScrapeAsync(admin, cancellationToken);
        var ledger = new CpuLedger(SendingParts(hq));
        var ingestWorkBefore = await PostgresWork.ReadAsync(database, cancellationToken);
        var processesBefore = PostgresProcesses.Read(_postmaster);
        var (ingest, measured) = await IngestAsync(new Uri(url), secrets, events, 1, cancellationToken, ledger);
        var ingestProcesses = PostgresProcesses.Read(_postmaster)?.Since(processesBefore!);
        await Task.Delay(PostgresWork.FlushDelay, cancellationToken);
        var ingestWork = (await PostgresWork.ReadAsync(database, cancellationToken)).Since(ingestWorkBefore);
        _ingestWork = ingestWork;
        var cpu = measured!;
        var gc = (await ServerMetrics.ScrapeAsync(admin, cancellationToken)).Since(gcBefore);
        var ingestCpu = cpu.PercentOf("HQ");
        var ingested = (long)(events / senders * senders);
        var held = await CountAsync(database, secrets.Take(senders * 2).Select(s => s.StoreId).ToArray(), cancellationToken);
        var sent = ingested + warmed;
        if (held != sent)
        {
            throw new InvalidOperationException($"HQ holds {held:N0} sales; the stores sent {sent:N0} distinct ones.");
        }

        output.WriteLine($"  ingest through POST /sync/v1/up, {senders} stores x {InFlight} in flight {ingest,8:N0} events/s  {ingest / raw,6:P0} of raw COPY, {ingest / rawIndexed:P0} of indexed   (HQ CPU {ingestCpu:F0}% of one core)");
        output.WriteLine($"    {cpu.Describe()}");
        output.WriteLine($"    HQ's garbage collector: {gc.Collections:N0} collections, paused {gc.PauseSeconds * 1000:N0} ms ({gc.PauseSeconds / cpu.Seconds:P1} of the time; the log's writer waits through each)");
        var ceiling = cpu.Ceiling(ingested);
        output.WriteLine($"    {PerRow(cpu, ingested)}: {cpu.MicrosPer(ingested):F1} µs an event in all");
        output.WriteLine($"    {ingestWork.Describe(ingested)}");
        output.WriteLine($"      (the indexed COPY above: {_rawIndexedWork.WalBytes / events:F0} B and {_rawIndexedWork.WalRecords / events:F2} records a row, {_rawIndexedWork.WalFullPageImages / events * 1000:F1} full-page images per 1,000)");
        if (ingestProcesses is not null && _rawIndexedProcesses is not null)
        {
            output.WriteLine($"    PostgreSQL's CPU per row by process: {ingestProcesses.Describe(ingested)}");
            output.WriteLine($"      (the indexed COPY above: {_rawIndexedProcesses.Describe(events)})");
        }
        output.WriteLine($"    this machine's CPU ceiling for that work ({cpu.Cores} cores doing nothing else): {ceiling:N0} events/s = {ceiling / raw:P0} of raw COPY; the ingest reached {ingest / ceiling:P0} of it"
            + (_postgresCpu.Count == 0 ? " (PostgreSQL's CPU not counted: it is not this benchmark's server)" : ""));

        _stores = secrets;
        return new HqBenchResult
        {
            Events = events,
            PayloadBytes = Payload.Length,
            RawCopyPerSecond = Math.Round(raw),
            RawIndexedCopyPerSecond = Math.Round(rawIndexed),
            IngestIndexedRatio = Math.Round(ingest / rawIndexed, 3),
            IngestPerSecond = Math.Round(ingest),
            IngestRatio = Math.Round(ingest / raw, 3),
            IngestHqCpuPercent = Math.Round(ingestCpu),
            IngestCpuMicrosPerEvent = cpu.Parts.ToDictionary(p => p.Name, p => Math.Round(p.Seconds / ingested * 1e6, 2)),
            IngestMachineBusyPercent = cpu.MachineBusy is { } busy ? Math.Round(busy / cpu.Seconds * 100) : null,
            IngestStealPercent = cpu.Steal is { } steal ? Math.Round(steal / cpu.Seconds * 100) : null,
            IngestCpuCeilingPerSecond = Math.Round(ceiling),
            IngestCpuCeilingRatio = Math.Round(ceiling / raw, 3),
            Pollers = pollers,
            Changes = changes,
        };
    }

    /// <summary>
    /// The limit: the same rows, binary COPY in one stream into a table with no index (or with the log's unique
    /// indexes); with several streams, each its own connection and share of the rows, all at once.
    /// </summary>
    private async Task<(double PerSecond, CpuReport Cpu)> RawCopyAsync(string connectionString, bool indexed, CancellationToken cancellationToken, int streams = 1)
    {
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand("""
                DROP TABLE IF EXISTS raw_events;
                CREATE TABLE raw_events(seq bigint, topic text, type text, version integer, key text, origin_id integer, origin_seq bigint, hlc bigint,
                                        scope text, correlation_id text, causation_id text, payload bytea, checksum bigint, down boolean)
                """ + (indexed ? "; ALTER TABLE raw_events ADD PRIMARY KEY (seq); CREATE UNIQUE INDEX ON raw_events(origin_id, origin_seq)" : ""), connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var stream = 0; stream < streams; stream++)
            {
                var connection = new NpgsqlConnection(connectionString);
                connections.Add(connection);
                await connection.OpenAsync(cancellationToken);
            }

            await SettleAsync(connectionString, cancellationToken);
            var processes = PostgresProcesses.Read(_postmaster);
            var ledger = new CpuLedger([.. _postgresCpu, ("the client", () => Environment.CpuUsage.TotalTime)]).Start();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(connections.Select((connection, stream) => Task.Run(() => CopyRowsAsync(connection, stream, streams, cancellationToken), cancellationToken)));
            var result = (events / clock.Elapsed.TotalSeconds, ledger.Stop());
            if (indexed && streams == 1)
            {
                _rawIndexedProcesses = PostgresProcesses.Read(_postmaster)?.Since(processes!);
            }

            return result;
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Every <paramref name="streams"/>-th row, from the <paramref name="stream"/>-th: the stores' events, interleaved as they arrive.</summary>
    private async Task CopyRowsAsync(NpgsqlConnection connection, int stream, int streams, CancellationToken cancellationToken)
    {
        await using var import = await connection.BeginBinaryImportAsync("COPY raw_events FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var i = stream + 1; i <= events; i += streams)
        {
            var store = (i % senders).ToString(CultureInfo.InvariantCulture);
            await import.StartRowAsync(cancellationToken);
            await import.WriteAsync((long)i, NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync("sales", NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync("SimulatedSale", NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(1, NpgsqlDbType.Integer, cancellationToken);
            await import.WriteAsync("b" + i.ToString(CultureInfo.InvariantCulture), NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(i % senders + 2, NpgsqlDbType.Integer, cancellationToken);
            await import.WriteAsync((long)(i / senders + 1), NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync(HlcTimestamp.From(1_790_000_000_000 + i, 0).Value, NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync("store:s" + store, NpgsqlDbType.Text, cancellationToken);
            await import.WriteNullAsync(cancellationToken);
            await import.WriteNullAsync(cancellationToken);
            await import.WriteAsync(Payload, NpgsqlDbType.Bytea, cancellationToken);
            await import.WriteAsync((long)i * 7919, NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync(false, NpgsqlDbType.Boolean, cancellationToken);
        }

        await import.CompleteAsync(cancellationToken);
    }

    /// <summary>The same store events appended straight into a <see cref="PostgresEventLog"/> by concurrent writers, no HTTP.</summary>
    private async Task<(double PerSecond, CpuReport Cpu)> LogAloneAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var reset = new NpgsqlCommand("DROP TABLE IF EXISTS raw_events", connection);
            await reset.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var log = await PostgresEventLog.OpenAsync(connectionString, new Core.Log.LogOptions { NodeId = "hq", MaxEventsPerCommit = 16_384 }, cancellationToken: cancellationToken);
        var perStore = events / senders;
        await SettleAsync(connectionString, cancellationToken);
        var ledger = new CpuLedger([("the log's process", () => Environment.CpuUsage.TotalTime), .. _postgresCpu]).Start();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(store => Task.Run(async () =>
        {
            // Not the names HQ's stores are registered under: with --postgres both phases share one database.
            var node = NodeId.Parse($"alone-{_run}-{store.ToString(CultureInfo.InvariantCulture)}");
            // As many batches in flight as the agent keeps, as HQ's endpoint gets them.
            using var window = new SemaphoreSlim(InFlight);
            var appends = new List<Task>();
            for (var from = 1; from <= perStore; from += Batch)
            {
                var batch = new List<NewEvent>(Batch);
                for (var seq = from; seq < from + Batch && seq <= perStore; seq++)
                {
                    batch.Add(new NewEvent
                    {
                        Topic = "sales",
                        Type = "SimulatedSale",
                        Key = "b" + seq.ToString(CultureInfo.InvariantCulture),
                        Scope = Scope.Store(node.Value),
                        Origin = new EventOrigin(node, seq, HlcTimestamp.From(1_790_000_000_000 + seq, 0)),
                        Payload = Payload,
                    });
                }

                await window.WaitAsync(cancellationToken);
                appends.Add(AppendAsync(batch));
            }

            await Task.WhenAll(appends);

            async Task AppendAsync(List<NewEvent> batch)
            {
                try
                {
                    await log.AppendBatchAsync(batch, cancellationToken: cancellationToken);
                }
                finally
                {
                    window.Release();
                }
            }
        }, cancellationToken)));
        return (perStore * senders / clock.Elapsed.TotalSeconds, ledger.Stop());
    }

    /// <summary>
    /// Each sending store posts its events in batches as the agent ships them (zstd, <see cref="InFlight"/> in flight),
    /// all stores at once; the <paramref name="ledger"/> counts only the sending, not the encoding.
    /// </summary>
    private async Task<(double PerSecond, CpuReport? Cpu)> IngestAsync(Uri hq, IReadOnlyList<IssuedCredential> secrets, long count, long firstSeq, CancellationToken cancellationToken,
        CpuLedger? ledger = null)
    {
        var perStore = count / senders;
        var up = UpSenders.Encode([.. secrets.Take(senders)], perStore, Batch, firstSeq);
        ledger?.Start();
        var clock = Stopwatch.StartNew();
        await up.SendAsync(hq, InFlight, cancellationToken);
        return (perStore * senders / clock.Elapsed.TotalSeconds, ledger?.Stop());
    }

    /// <summary>
    /// Starts a measured phase on a settled server: a CHECKPOINT writes and syncs what the phases before left dirty
    /// (in PostgreSQL's buffers and, through its fsyncs, in the kernel's page cache), so no phase pays for the one
    /// before it. Measured here: the same raw COPY costs PostgreSQL 1.2 µs a row on a settled server and 2.1 µs right
    /// after the ingest. A server that is not ours to checkpoint (<c>--postgres</c> as a user without the right) runs
    /// unsettled, and the run says so.
    /// </summary>
    private async Task SettleAsync(string connectionString, CancellationToken cancellationToken)
    {
        if (_unsettled)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
        try
        {
            await checkpoint.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            _unsettled = true;
            output.WriteLine($"  (phases start unsettled: this user may not CHECKPOINT the given server: {ex.MessageText})");
        }
    }

    /// <summary>Counts the sales HQ holds from the given stores, straight from its database: the check that nothing was lost or doubled.</summary>
    internal static async Task<long> CountAsync(string connectionString, string[] stores, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM events e WHERE e.topic = 'sales' AND e.origin_id IN (SELECT id FROM nodes WHERE name = ANY($1))", connection)
        {
            Parameters = { new() { Value = stores } },
        };
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Registers <paramref name="count"/> stores named after this run, in 20 regions, and returns their credentials.</summary>
    internal static async Task<IReadOnlyList<IssuedCredential>> RegisterAsync(HttpClient admin, int count, string run, CancellationToken cancellationToken)
    {
        var issued = new IssuedCredential[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var id = $"b{run}-s{i.ToString(CultureInfo.InvariantCulture)}";
            using var response = await admin.PostAsJsonAsync("admin/stores", new RegisterStore(id, "region-" + (i % 20).ToString(CultureInfo.InvariantCulture)), ct);
            response.EnsureSuccessStatusCode();
            issued[i] = (await response.Content.ReadFromJsonAsync<IssuedCredential>(ct))!;
        });
        return issued;
    }
}
