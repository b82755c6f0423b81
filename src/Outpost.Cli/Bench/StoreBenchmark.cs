using Outpost.Sync.Faults;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using Outpost.Central.Admin;
using Outpost.Core.Events;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Bench;

/// <summary>
/// One store server under its devices on this machine (real Kestrel on 127.0.0.1, real SQLite, HQ replicating; the
/// store server and HQ each in a process of its own): simulated tills doing price checks, basket updates and
/// checkouts, online then with the HQ link cut; and the fan-out of an out-of-stock event to connected menu boards.
/// The limits beside them, measured under the same load in the same run: a request that does nothing (the store's
/// <c>/health/live</c>) and a durable one-row SQLite commit on the same disk.
/// </summary>
internal sealed class StoreBenchmark(TextWriter output, string directory, int devices, TimeSpan phase, int boards, TimeSpan pace, bool tracing = false, int laggingEvents = 0)
{
    private const string StoreId = "bench-store";
    private const string AdminToken = "bench-admin";
    private const int Products = 1000;

    /// <summary>The route of each timed operation, to find it in the store server's request-duration histogram.</summary>
    private static readonly Dictionary<string, (string Method, string Route)> Routes = new(StringComparer.Ordinal)
    {
        ["price check"] = ("GET", "/api/products/{code}"),
        ["basket update"] = ("POST", "/api/baskets/{id}/lines"),
        ["checkout"] = ("POST", "/api/baskets/{id}/complete"),
        [Limit] = ("GET", "/health/live"),
    };

    /// <summary>The liveness probe timed beside the tills' operations, under the same load.</summary>
    private const string Limit = "limit: /health/live";

    /// <summary>A durable one-row SQLite commit on the same disk, timed under the same load.</summary>
    private const string CommitLimit = "limit: durable commit";

    /// <summary>The order the figures are printed in.</summary>
    private static readonly string[] Printed = ["price check", "basket update", "checkout", Limit, CommitLimit];

    /// <summary>Out-of-stock marks sent to the boards: 50 x 100 boards = 5,000 deliveries, so the p99 is not one slow round.</summary>
    private const int Rounds = 50;

    public async Task<StoreBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        output.WriteLine($"outpost bench store: {devices} simulated tills, {pace.TotalMilliseconds:F0} ms between a till's requests (0: as fast as answers come), {phase.TotalSeconds:F0} s online, then {phase.TotalSeconds:F0} s with the HQ link cut; {boards} menu boards on the feed");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        // HQ runs as its own process too: in production it is elsewhere, and its collections must not pause the tills' clock.
        // With --tracing both processes export every span (sampler always on) by OTLP to a receiver in this process.
        await using var sink = tracing ? await OtlpSink.StartAsync(cancellationToken) : null;
        var environment = new Dictionary<string, string>(sink?.Environment ?? new Dictionary<string, string>()) { ["Logging__LogLevel__Default"] = "Warning" };
        output.WriteLine(sink is null ? "tracing: off (no OTEL_* settings)" : $"tracing: on, every span exported by OTLP/HTTP to {sink.Endpoint}");
        var hqAddress = new Uri($"http://127.0.0.1:{OutpostProcess.FreePort()}/");
        await using var hq = OutpostProcess.Start(["central", "--data", Path.Combine(directory, "hq"), "--urls", hqAddress.ToString().TrimEnd('/'), "--admin-token", AdminToken],
            environment, directory);
        using var central = Client(hqAddress, AdminToken);
        await hq.WaitUntilReadyAsync(central, cancellationToken);
        var registered = await ReadAsync(await central.PostAsJsonAsync("/admin/stores", new RegisterStore(StoreId, "bench"), cancellationToken), cancellationToken);
        var secret = registered.GetProperty("secret").GetString()!;
        await PublishAsync(central, cancellationToken);
        await using var link = new FaultProxy(hqAddress);

        // The store server runs as its own process, as in a store: its garbage collector and thread pool carry the
        // store's work only, not the simulated tills'.
        var address = new Uri($"http://127.0.0.1:{OutpostProcess.FreePort()}/");
        await using var store = OutpostProcess.Start(
            ["store", "--id", StoreId, "--region", "bench", "--time-zone", "Europe/Paris", "--data", Path.Combine(directory, "store"), "--urls", address.ToString().TrimEnd('/'),
             "--admin-token", AdminToken, "--central", link.Address.ToString(), "--secret", secret],
            environment, directory);
        try
        {
            using var admin = Client(address, AdminToken);
            await store.WaitUntilReadyAsync(admin, cancellationToken);
            output.WriteLine($"  store server: process {store.Id} on {address}");
            await UntilAsync(async () => (await admin.GetAsync($"/api/products/{Gtin(Products - 1)}", cancellationToken)).IsSuccessStatusCode, TimeSpan.FromMinutes(2), cancellationToken);
            var tills = new List<HttpClient>();
            for (var i = 0; i < devices; i++)
            {
                tills.Add(Client(address, await EnrolAsync(admin, "till", cancellationToken)));
            }

            // A store server runs for days: warm it up untimed first (JIT, tiered re-compilation, pools, caches).
            var warmUp = TimeSpan.FromTicks(Math.Min(phase.Ticks, TimeSpan.FromSeconds(15).Ticks));
            await LoadAsync(tills, admin, store, warmUp, cancellationToken);
            output.WriteLine($"  warm-up: {warmUp.TotalSeconds:F0} s of the same load, untimed");
            var limit = await RoundTripAsync(admin, cancellationToken);
            output.WriteLine($"  idle limit: GET /health/live round trip, no load  {limit}");
            var online = await LoadAsync(tills, admin, store, phase, cancellationToken);
            Print("online", online);
            link.Mode = ProxyMode.Reset;
            var offline = await LoadAsync(tills, admin, store, phase, cancellationToken);
            Print("HQ link cut", offline);
            link.Mode = ProxyMode.Pass;

            // The fan-out is measured once the link has settled: right after it returns, the minute of sales made
            // offline drains to HQ, which runs on the same two cores.
            var settling = Stopwatch.StartNew();
            await UntilAsync(async () => await ReadAsync(await admin.GetAsync("/api/connectivity", cancellationToken), cancellationToken) is var status
                && status.GetProperty("state").ToString() is "Online" or "online" or "0" && status.GetProperty("upBacklog").GetInt64() == 0, TimeSpan.FromMinutes(2), cancellationToken);
            output.WriteLine($"  link back: the offline backlog drained in {settling.Elapsed.TotalSeconds:F1} s");
            var ratio = offline["checkout"].P99 / online["checkout"].P99;
            var priceRatio = offline["price check"].P99 / online["price check"].P99;
            output.WriteLine($"  offline/online p99: price check {priceRatio:F2}, checkout {ratio:F2}   (target under 1.2)");
            output.WriteLine($"  price check p99 / limit p99 under the same load: online {online["price check"].P99 / online[Limit].P99:F2}, HQ link cut {offline["price check"].P99 / offline[Limit].P99:F2}   (idle limit: {online["price check"].P99 / limit.P99:F1}x)");
            output.WriteLine($"  checkout p99 / limit p99 under the same load: online {online["checkout"].P99 / online[Limit].P99:F2}, HQ link cut {offline["checkout"].P99 / offline[Limit].P99:F2}");
            var fanOut = await FanOutAsync(admin, address, cancellationToken);
            output.WriteLine($"  out-of-stock -> {boards} menu boards (SSE)        {fanOut}   (target p99 under 50 ms)");
            // A service far behind, reading as fast as the store sends: the tills' figures beside a phase without it, just before.
            double? laggingRatio = null, laggingCheckoutP99 = null, laggingBaselineP99 = null;
            if (laggingEvents > 0)
            {
                using var lagging = await LaggingService.FillAsync(admin, laggingEvents, output, cancellationToken);
                var baseline = await LoadAsync(tills, admin, store, phase, cancellationToken);
                Print("no service", baseline);
                lagging.Start();
                var behind = await LoadAsync(tills, admin, store, phase, cancellationToken);
                var read = await lagging.StopAsync();
                Print("service behind", behind);
                laggingBaselineP99 = baseline["checkout"].P99;
                laggingCheckoutP99 = behind["checkout"].P99;
                laggingRatio = laggingCheckoutP99 / laggingBaselineP99;
                output.WriteLine($"  checkout p99 with a service {laggingEvents:N0} events behind / without: {laggingRatio:F2}   (it read {read:N0} events, {read / phase.TotalSeconds:N0} a second, during the phase)");
            }

            foreach (var till in tills)
            {
                till.Dispose();
            }

            if (sink is not null)
            {
                output.WriteLine($"  tracing: {sink.Spans.Count:N0} spans exported in {sink.Requests:N0} OTLP requests ({sink.Bytes / 1024.0 / 1024.0:F1} MiB)");
            }

            return new StoreBenchResult
            {
                Devices = devices,
                PaceMs = pace.TotalMilliseconds,
                PhaseSeconds = phase.TotalSeconds,
                LimitP50Ms = limit.P50,
                LimitP99Ms = limit.P99,
                Online = online.ToDictionary(o => o.Key, o => new[] { o.Value.P50, o.Value.P99 }),
                Offline = offline.ToDictionary(o => o.Key, o => new[] { o.Value.P50, o.Value.P99 }),
                OnlineInServer = online.ToDictionary(o => o.Key, o => new[] { o.Value.ServerP50, o.Value.ServerP99 }),
                OfflineInServer = offline.ToDictionary(o => o.Key, o => new[] { o.Value.ServerP50, o.Value.ServerP99 }),
                OperationsOnline = online.Sum(o => o.Value.Count),
                OperationsOffline = offline.Sum(o => o.Value.Count),
                OfflineOnlineP99Ratio = Math.Max(ratio, priceRatio),
                Boards = boards,
                FanOutP50Ms = fanOut.P50,
                FanOutP99Ms = fanOut.P99,
                Tracing = tracing,
                SpansExported = sink?.Spans.Count ?? 0,
                LaggingEvents = laggingEvents,
                LaggingBaselineCheckoutP99Ms = laggingBaselineP99,
                LaggingCheckoutP99Ms = laggingCheckoutP99,
                LaggingCheckoutP99Ratio = laggingRatio,
            };
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    public void Cleanup() => LogBenchmark.DeleteFolder(directory);

    private void Print(string label, Dictionary<string, Figures> figures)
    {
        foreach (var (operation, f) in figures.OrderBy(f => Array.IndexOf(Printed, f.Key)))
        {
            output.WriteLine($"  {label,-12} {operation,-22} {f.Count,8:N0} ops   p50 {f.P50,7:F2} ms   p99 {f.P99,7:F2} ms" + (f.ServerP99 is null ? "" : $"   (in the server: p50 {f.ServerP50,5:F2}, p99 {f.ServerP99,5:F2} ms)"));
        }
    }

    private async Task<Dictionary<string, Figures>> LoadAsync(List<HttpClient> tills, HttpClient admin, OutpostProcess store, TimeSpan duration, CancellationToken cancellationToken)
    {
        var samples = new ConcurrentDictionary<string, ConcurrentBag<double>>();
        async Task Record(string operation, double ms)
        {
            samples.GetOrAdd(operation, _ => []).Add(ms);
            if (pace > TimeSpan.Zero)
            {
                await Task.Delay(pace, cancellationToken);
            }
        }

        var stop = DateTime.UtcNow + duration;
        var before = await ServerMetrics.ScrapeAsync(admin, cancellationToken);
        var usage = new ProcessUsage(store);
        var tillsPaused = GC.GetTotalPauseDuration();
        var tillsCpu = Process.GetCurrentProcess().TotalProcessorTime;

        var limit = ProbeRequestsAsync(admin.BaseAddress!, samples.GetOrAdd(Limit, _ => []), stop, cancellationToken);
        var commits = Task.Factory.StartNew(() => ProbeCommits(samples.GetOrAdd(CommitLimit, _ => []), stop, cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAll(tills.Select((till, t) => Task.Run(async () =>
        {
            var random = new Random(t);

            // Tills are not synchronised: each starts at its own moment within the pace, as in a store. Started
            // together, all 50 sent their first price check in the same millisecond at the start of every phase,
            // and that one burst (50 of some 6,000 samples) made the price check's p99.
            await Task.Delay(TimeSpan.FromMilliseconds(random.NextDouble() * pace.TotalMilliseconds), cancellationToken);
            for (var round = 0; round < 1_000_000 && DateTime.UtcNow < stop; round++)
            {
                var watch = Stopwatch.StartNew();
                (await till.GetAsync($"/api/products/{Gtin(random.Next(Products))}", cancellationToken)).EnsureSuccessStatusCode();
                await Record("price check", watch.Elapsed.TotalMilliseconds);
                var basket = await ReadAsync(await till.PostAsJsonAsync("/api/baskets", new { }, cancellationToken), cancellationToken);
                var id = basket.GetProperty("id").GetString();
                for (var line = 0; line < 3; line++)
                {
                    watch.Restart();
                    await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/lines", new { code = Gtin(random.Next(Products)), quantity = 1 + random.Next(3) }, cancellationToken), cancellationToken);
                    await Record("basket update", watch.Elapsed.TotalMilliseconds);
                }

                await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/payments", new { method = "card" }, cancellationToken), cancellationToken);
                watch.Restart();
                await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/complete", new { idempotencyKey = id }, cancellationToken), cancellationToken);
                await Record("checkout", watch.Elapsed.TotalMilliseconds);
            }
        }, cancellationToken)).Append(limit).Append(commits));
        var cpu = usage.CpuPercent;
        var server = (await ServerMetrics.ScrapeAsync(admin, cancellationToken)).Since(before);
        output.WriteLine($"  store server: CPU {cpu:F0}% of one core; {server.Collections:N0} garbage collections, paused {server.PauseSeconds * 1000:F0} ms in all ({server.PauseSeconds / duration.TotalSeconds:P1} of the time); {server.WorkItems / duration.TotalSeconds:N0} thread-pool work items a second");
        var tillsPause = GC.GetTotalPauseDuration() - tillsPaused;
        output.WriteLine($"  the tills' process: CPU {(Process.GetCurrentProcess().TotalProcessorTime - tillsCpu) / duration:P0} of one core; paused {tillsPause.TotalMilliseconds:F0} ms for garbage collection ({tillsPause / duration:P1} of the time)");
        return samples.ToDictionary(s => s.Key, s => Figures.Of(s.Value, server, Routes.TryGetValue(s.Key, out var route) ? route : null));
    }

    /// <summary>
    /// The limit under the same load: a request that does nothing (the liveness probe), every 20 ms from a client of
    /// its own. Whatever it takes is the request path on this machine (loopback TCP, both processes' schedulers,
    /// Kestrel), not an operation's work.
    /// </summary>
    private static async Task ProbeRequestsAsync(Uri store, ConcurrentBag<double> samples, DateTime stop, CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { BaseAddress = store, Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 1_000_000 && DateTime.UtcNow < stop; i++)
        {
            var watch = Stopwatch.StartNew();
            using (var response = await probe.GetAsync("/health/live", cancellationToken))
            {
                response.EnsureSuccessStatusCode();
            }

            samples.Add(watch.Elapsed.TotalMilliseconds);
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// What a durable commit costs on this disk under the same load: one row, one fsync'd SQLite transaction (WAL,
    /// synchronous=FULL, as the log commits a sale), every 20 ms. A checkout holds one. Runs on a thread of its own.
    /// </summary>
    private void ProbeCommits(ConcurrentBag<double> samples, DateTime stop, CancellationToken cancellationToken)
    {
        using var connection = RawSqlite.Connection(directory, "commit-limit.db");
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO raw(topic, key, payload) VALUES('sales', $key, $payload)";
        var key = insert.Parameters.Add("$key", Microsoft.Data.Sqlite.SqliteType.Text);
        insert.Parameters.AddWithValue("$payload", new byte[200]);
        for (var i = 0; i < 1_000_000 && DateTime.UtcNow < stop && !cancellationToken.IsCancellationRequested; i++)
        {
            var watch = Stopwatch.StartNew();
            using (var tx = connection.BeginTransaction())
            {
                insert.Transaction = tx;
                key.Value = "k" + i.ToString(CultureInfo.InvariantCulture);
                insert.ExecuteNonQuery();
                tx.Commit();
            }

            samples.Add(watch.Elapsed.TotalMilliseconds);
            Thread.Sleep(20);
        }
    }

    private async Task<Percentiles> FanOutAsync(HttpClient admin, Uri store, CancellationToken cancellationToken)
    {
        var token = await EnrolAsync(admin, "signage", cancellationToken);
        var readers = new List<(HttpClient Client, StreamReader Reader)>();
        for (var i = 0; i < boards; i++)
        {
            var client = new HttpClient { BaseAddress = store, Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var response = await client.GetAsync("/api/feed", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            await NextEventAsync(reader, "hello", cancellationToken);
            readers.Add((client, reader));
        }

        // Round -1 is untimed: the first out-of-stock mark of the process runs the mark, the projection and the feed's
        // path cold (28-30 ms for every board, where later rounds take 4-10 ms), and set the p99 on its own. The tills'
        // phases warm up for 15 s the same way.
        var samples = new List<double>();
        for (var round = -1; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            var receipts = readers.Select(async r => { await NextEventAsync(r.Reader, "availability", cancellationToken); return watch.Elapsed.TotalMilliseconds; }).ToList();
            (await admin.PostAsJsonAsync("/api/stock/availability", new { kind = "product", id = Gtin(round + 1), available = false }, cancellationToken)).EnsureSuccessStatusCode();
            var received = await Task.WhenAll(receipts);
            if (round >= 0)
            {
                samples.AddRange(received);
            }
        }

        foreach (var (client, reader) in readers)
        {
            reader.Dispose();
            client.Dispose();
        }

        return Percentiles.Of(samples);
    }

    private static async Task NextEventAsync(StreamReader reader, string type, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        for (var lines = 0; lines < 100_000; lines++)
        {
            var line = await reader.ReadLineAsync(deadline.Token) ?? throw new EndOfStreamException("The feed closed.");
            if (line == "event: " + type)
            {
                return;
            }
        }
    }

    private static async Task<Percentiles> RoundTripAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var samples = new List<double>();
        for (var i = 0; i < 2000; i++)
        {
            var watch = Stopwatch.StartNew();
            (await client.GetAsync("/health/live", cancellationToken)).EnsureSuccessStatusCode();
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Percentiles.Of(samples);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
    }

    private static HttpClient Client(Uri address, string token)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<string> EnrolAsync(HttpClient admin, string role, CancellationToken cancellationToken)
    {
        var enrolled = await ReadAsync(await admin.PostAsJsonAsync("/api/devices", new { name = role, role }, cancellationToken), cancellationToken);
        return enrolled.GetProperty("token").GetString()!;
    }

    private static string Gtin(int i)
    {
        var body = "4" + (100_000_000_000L + i).ToString(CultureInfo.InvariantCulture)[1..];
        return body + Retail.Catalog.Gtin.CheckDigit(body).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>HQ's catalog for the store, through HQ's admin API: 1,000 products with prices, 200 promotions.</summary>
    private static async Task PublishAsync(HttpClient hq, CancellationToken cancellationToken)
    {
        var events = new List<PublishEvent>();
        var from = new DateTime(2026, 1, 1);
        static JsonElement Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) => JsonSerializer.SerializeToElement(value, type);
        for (var i = 0; i < Products; i++)
        {
            var gtin = Gtin(i);
            events.Add(new PublishEvent(CatalogEvents.ProductsTopic, CatalogEvents.ProductUpserted, gtin, "*",
                Json(new ProductUpsertedV1(gtin, "Product " + i, "cat" + (i % 20), "standard", SaleUnit.Each, null, null), CatalogJsonContext.Default.ProductUpsertedV1)));
            events.Add(new PublishEvent(PricingEvents.PricesTopic, PricingEvents.PriceSet, PricingEvents.PriceKey(Scope.All, gtin, from), "*",
                Json(new PriceSetV1(gtin, 1m + i % 50, "EUR", from, null), PricingJsonContext.Default.PriceSetV1)));
        }

        for (var p = 0; p < 200; p++)
        {
            events.Add(new PublishEvent(PromotionEvents.PromotionsTopic, PromotionEvents.PromotionSet, "p" + p, "*",
                Json(new PromotionDefinitionV1("p" + p, "3 for 2 #" + p, "multiBuy", [Gtin(p * 5), Gtin(p * 5 + 1)], null, Buy: 3, Pay: 2), PromotionJsonContext.Default.PromotionDefinitionV1)));
        }

        await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (e, ct) =>
            await ReadAsync(await hq.PostAsJsonAsync("/admin/events", e, ct), ct));
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The store did not receive HQ's master data in time.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// An operation as the tills timed it (request sent to answer read, through both processes' schedulers), and
    /// as the store server timed it (its request-duration histogram: request read to response written).
    /// </summary>
    private readonly record struct Figures(int Count, double P50, double P99, double? ServerP50, double? ServerP99)
    {
        public static Figures Of(IEnumerable<double> samples, ServerMetrics server, (string Method, string Route)? route)
        {
            var list = samples.ToList();
            var p = Percentiles.Of(list);
            return route is var (method, path)
                ? new Figures(list.Count, p.P50, p.P99, server.Percentile(method, path, 0.50), server.Percentile(method, path, 0.99))
                : new Figures(list.Count, p.P50, p.P99, null, null);
        }
    }
}

/// <summary>What <c>outpost bench store</c> measured, written as JSON.</summary>
internal sealed record StoreBenchResult() : BenchResult("store")
{
    public required int Devices { get; init; }

    /// <summary>With <c>--lagging-service</c>: how far behind the service was (0: not measured).</summary>
    public int LaggingEvents { get; init; }

    /// <summary>Checkout p99 in the phase just before the service started reading.</summary>
    public double? LaggingBaselineCheckoutP99Ms { get; init; }

    /// <summary>Checkout p99 while the service read from far behind.</summary>
    public double? LaggingCheckoutP99Ms { get; init; }

    /// <summary>The second over the first.</summary>
    public double? LaggingCheckoutP99Ratio { get; init; }

    public required double PaceMs { get; init; }

    public required double PhaseSeconds { get; init; }

    public required double LimitP50Ms { get; init; }

    public required double LimitP99Ms { get; init; }

    public required Dictionary<string, double[]> Online { get; init; }

    public required Dictionary<string, double[]> Offline { get; init; }

    /// <summary>p50 and p99 per operation as the store server timed it (its request-duration histogram), online.</summary>
    public required Dictionary<string, double?[]> OnlineInServer { get; init; }

    /// <summary>The same with the HQ link cut.</summary>
    public required Dictionary<string, double?[]> OfflineInServer { get; init; }

    public required int OperationsOnline { get; init; }

    public required int OperationsOffline { get; init; }

    public required double OfflineOnlineP99Ratio { get; init; }

    public required int Boards { get; init; }

    public required double FanOutP50Ms { get; init; }

    public required double FanOutP99Ms { get; init; }

    /// <summary>Whether both processes traced every request and exported the spans by OTLP (<c>--tracing</c>).</summary>
    public bool Tracing { get; init; }

    /// <summary>Spans the OTLP receiver got over the run (0 with tracing off).</summary>
    public int SpansExported { get; init; }
}
