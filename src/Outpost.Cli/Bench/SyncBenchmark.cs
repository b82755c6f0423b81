using Outpost.Sync.Faults;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Outpost.Central;
using Outpost.Central.Stores;
using Outpost.Cli.Commands;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail;
using Outpost.Store;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Bench;

/// <summary>
/// Replication between one store and HQ on this machine (real Kestrel on 127.0.0.1, real SQLite files,
/// both logs with synchronous=FULL), beside raw SQLite batched inserts measured in the same run.
/// </summary>
internal sealed class SyncBenchmark(TextWriter output, string directory, int events, int batch, int inFlight)
{
    private const string StoreId = "bench-store";
    private const string CriticalCursor = "up:hq:critical";

    /// <summary>Sales replicated while online before the outage, untimed.</summary>
    private const int WarmUpEvents = 200_000;

    public async Task<SyncBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var sales = Enumerable.Range(0, 1000).Select(SalePayload).ToArray();
        output.WriteLine($"outpost bench sync: {events:N0} sales of about {sales.Average(s => s.Length):F0} payload bytes, one store and HQ on 127.0.0.1, batches of {batch}, {inFlight} in flight");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var raw = RawSqlite.BatchInsert(directory, events, sales[0], sameRows: true, cancellationToken);
        output.WriteLine($"  raw SQLite, the log's rows, no index, 1,000/tx    {raw,12:N0} rows/s   (the physical limit)");

        var hq = CentralHost.Build(new CentralOptions { DataDirectory = Path.Combine(directory, "hq"), Urls = "http://127.0.0.1:0", Topics = RetailTopics.Catalog }, Quiet);
        await hq.StartAsync(cancellationToken);
        var secret = (await hq.Services.GetRequiredService<StoreDirectory>().RegisterAsync(StoreId, "bench", cancellationToken)).Secret;
        await using var link = new FaultProxy(hq.Address());
        var storeOptions = new StoreOptions { StoreId = StoreId, DataDirectory = Path.Combine(directory, "store"), Urls = "http://127.0.0.1:0", Topics = RetailTopics.Catalog };
        storeOptions.Sync.Central = link.Address;
        storeOptions.Sync.Secret = secret;
        storeOptions.Sync.MaxBatchEvents = batch;
        storeOptions.Sync.MaxInFlight = inFlight;
        var store = StoreHost.Build(storeOptions, Quiet);
        await store.StartAsync(cancellationToken);
        var storeLog = store.Services.GetRequiredService<IEventLog>();
        var hqLog = hq.Services.GetRequiredService<IEventLog>();
        try
        {
            // A store that loses its link was online before: its sync path, and HQ's, have run and are compiled. In a
            // fresh process the JIT's background re-compilation took about a quarter of the CPU during the drain.
            var warmUp = Math.Min(WarmUpEvents, events);
            var warmed = await FillBacklogAsync(storeLog, sales, warmUp, "w", cancellationToken);
            await UntilAsync(async () => await storeLog.GetCursorAsync(CriticalCursor, cancellationToken) >= warmed, TimeSpan.FromMinutes(5), cancellationToken);
            output.WriteLine($"  warm-up: {warmUp:N0} sales replicated while online, untimed");

            // The backlog builds up the way it does in a store: sales appended while the link is down, with the store's
            // own read models keeping up. Only then does the link come back, so the figure is replication alone.
            link.Mode = ProxyMode.Reset;
            var client = store.Services.GetRequiredService<SyncClient>();
            var bytesBefore = client.UpBytesSent;
            var last = await FillBacklogAsync(storeLog, sales, events, "b", cancellationToken);
            var retail = store.Services.GetRequiredService<StoreServices>().Retail;
            await UntilAsync(() => Task.FromResult(retail.Status.All(s => s.Position >= storeLog.Head)), TimeSpan.FromMinutes(5), cancellationToken);
            link.Mode = ProxyMode.Pass;

            // The drain is timed from the first acknowledgement: how long the link takes to come back is the
            // restoration figure below, not part of the rate.
            long first = 0;
            await UntilAsync(async () => (first = await storeLog.GetCursorAsync(CriticalCursor, cancellationToken) ?? 0) > warmed, TimeSpan.FromMinutes(1), cancellationToken);
            var started = Stopwatch.StartNew();
            await UntilAsync(async () => await storeLog.GetCursorAsync(CriticalCursor, cancellationToken) >= last, TimeSpan.FromMinutes(10), cancellationToken);
            var catchUp = started.Elapsed.TotalSeconds;
            var drained = last - first;
            var wire = (double)(client.UpBytesSent - bytesBefore) / events;
            output.WriteLine($"  catch-up of {events:N0} sales, store -> HQ          {drained / catchUp,12:N0} events/s  {drained / catchUp / raw,6:P0} of raw   ({catchUp:F1} s)");
            output.WriteLine($"  on the wire per sale (zstd, request bodies)       {wire,12:F1} bytes");

            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            var up = await UpLatencyAsync(storeLog, hqLog, sales, cancellationToken);
            output.WriteLine($"  append at store -> durable at HQ, 1,000/s        {up}");
            var down = await DownLatencyAsync(storeLog, hqLog, cancellationToken);
            output.WriteLine($"  price change at HQ -> in the store's log         {down}");
            var restored = await RestorationAsync(link, storeLog, sales[0], cancellationToken);
            output.WriteLine($"  link restored -> first waiting sale acknowledged {restored,9:F0} ms   (backoff cap 3 s, jittered)");
            return new SyncBenchResult
            {
                Events = events,
                PayloadBytes = (int)sales.Average(s => s.Length),
                RawBatchInsertPerSecond = Math.Round(raw),
                CatchUpSeconds = Math.Round(catchUp, 2),
                CatchUpPerSecond = Math.Round(drained / catchUp),
                CatchUpRatio = Math.Round(drained / catchUp / raw, 3),
                WireBytesPerEvent = Math.Round(wire, 1),
                UpLatencyP50Ms = up.P50,
                UpLatencyP99Ms = up.P99,
                DownLatencyP50Ms = down.P50,
                DownLatencyP99Ms = down.P99,
                RestoredToAckedMs = Math.Round(restored),
            };
        }
        finally
        {
            await store.StopAsync(CancellationToken.None);
            await store.DisposeAsync();
            await hq.StopAsync(CancellationToken.None);
            await hq.DisposeAsync();
        }
    }

    /// <summary>The outage phase makes the up link log each retry; the figures are what matters here.</summary>
    private static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.Error);

    public void Cleanup() => LogBenchmark.DeleteFolder(directory);

    /// <summary>A realistic sale: basket, till, cashier, lines with GTINs, quantities and prices, tender.</summary>
    private static byte[] SalePayload(int i)
    {
        var random = new Random(i);
        var lines = string.Join(',', Enumerable.Range(0, 1 + random.Next(3)).Select(_ =>
            $$"""{"gtin":"50{{random.Next(10_000_000, 99_999_999)}}123","qty":{{1 + random.Next(3)}},"price":"{{random.Next(49, 999) / 100m}}"}"""));
        return Encoding.UTF8.GetBytes($$"""{"basket":"b{{i:D7}}","till":"till-0{{i % 6}}","lines":[{{lines}}],"total":"{{random.Next(100, 9999) / 100m}}","currency":"EUR","tender":"{{(i % 3 == 0 ? "cash" : "card")}}"}""");
    }

    /// <summary>Appends sales in batches of 1,000, as tills would; returns the last one's sequence.</summary>
    private static async Task<long> FillBacklogAsync(IEventLog log, byte[][] sales, int count, string prefix, CancellationToken cancellationToken)
    {
        var last = 0L;
        for (var done = 0; done < count; done += 1000)
        {
            var batch = Enumerable.Range(done, Math.Min(1000, count - done)).Select(i => Sale(i, sales[i % sales.Length]) with { Key = prefix + i.ToString(CultureInfo.InvariantCulture) }).ToList();
            last = (await log.AppendBatchAsync(batch, cancellationToken: cancellationToken))[^1].Seq;
        }

        return last;
    }

    private static NewEvent Sale(int i, byte[] payload) => new()
    {
        Topic = "sales",
        Type = "SimulatedSale",
        Key = "b" + i.ToString(CultureInfo.InvariantCulture),
        Scope = Scope.Store(StoreId),
        Payload = payload,
    };

    private static async Task<Percentiles> UpLatencyAsync(IEventLog storeLog, IEventLog hqLog, byte[][] sales, CancellationToken cancellationToken)
    {
        const int count = 5000;
        var sent = new ConcurrentDictionary<string, long>();
        var seen = new ConcurrentDictionary<string, long>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tail = Tail(hqLog, "sales", seen, stop.Token);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromMilliseconds(i); // 1,000 sales a second
            if (clock.Elapsed < due)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }

            var key = "live-" + i.ToString(CultureInfo.InvariantCulture);
            sent[key] = Stopwatch.GetTimestamp();
            await storeLog.AppendAsync(Sale(i, sales[i % sales.Length]) with { Key = key }, cancellationToken);
        }

        await UntilAsync(() => Task.FromResult(seen.Count(k => k.Key.StartsWith("live-", StringComparison.Ordinal)) >= count), TimeSpan.FromMinutes(2), cancellationToken);
        await stop.CancelAsync();
        await tail;
        return Percentiles.Of(sent.Select(s => Stopwatch.GetElapsedTime(s.Value, seen[s.Key]).TotalMilliseconds));
    }

    private static async Task<Percentiles> DownLatencyAsync(IEventLog storeLog, IEventLog hqLog, CancellationToken cancellationToken)
    {
        const int count = 200;
        var sent = new ConcurrentDictionary<string, long>();
        var seen = new ConcurrentDictionary<string, long>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tail = Tail(storeLog, "prices", seen, stop.Token);
        for (var i = 0; i < count; i++)
        {
            var key = "gtin-" + i.ToString(CultureInfo.InvariantCulture);
            sent[key] = Stopwatch.GetTimestamp();
            await hqLog.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceChanged", Key = key, Payload = Encoding.UTF8.GetBytes($$"""{"price":"{{i}}.99"}""") }, cancellationToken);
            await Task.Delay(20, cancellationToken);
        }

        await UntilAsync(() => Task.FromResult(seen.Count >= count), TimeSpan.FromMinutes(1), cancellationToken);
        await stop.CancelAsync();
        await tail;
        return Percentiles.Of(sent.Select(s => Stopwatch.GetElapsedTime(s.Value, seen[s.Key]).TotalMilliseconds));
    }

    private static async Task<double> RestorationAsync(FaultProxy link, IEventLog storeLog, byte[] payload, CancellationToken cancellationToken)
    {
        link.Mode = ProxyMode.Reset;
        var waiting = await storeLog.AppendAsync(Sale(-1, payload) with { Key = "during-outage" }, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(6), cancellationToken);
        var restored = Stopwatch.StartNew();
        link.Mode = ProxyMode.Pass;
        await UntilAsync(async () => await storeLog.GetCursorAsync(CriticalCursor, cancellationToken) >= waiting.Seq, TimeSpan.FromMinutes(1), cancellationToken);
        return restored.Elapsed.TotalMilliseconds;
    }

    private static Task Tail(IEventLog log, string topic, ConcurrentDictionary<string, long> seen, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        try
        {
            await foreach (var e in log.TailAsync(log.Head, ReadFilter.ForTopics(topic), cancellationToken))
            {
                seen.TryAdd(e.Key, Stopwatch.GetTimestamp());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }, cancellationToken);

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The benchmark waited {timeout} for replication; it did not happen.");
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
