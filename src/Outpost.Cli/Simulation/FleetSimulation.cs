using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Outpost.Central;
using Outpost.Central.MasterData;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Core.Postgres;
using Outpost.Retail;
using Outpost.Retail.Catalog;
using Outpost.Sync.Agent;
using Outpost.Sync.Faults;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Simulation;

/// <summary>
/// <c>outpost simulate</c>: a fleet of real store servers and a real HQ in this process, each store's link through a
/// fault proxy driven by a seeded schedule, tills selling on a daily curve in each store's time zone, HQ changing
/// prices by scope; at the end every link is restored, the fleet settles, and <see cref="SimulationChecker"/> states
/// the verdict. Simulated time passes <see cref="SimulationSettings.Speed"/> times faster than real time: the
/// schedule (sales, price changes, faults) is in simulated time, the servers run in real time.
/// </summary>
internal sealed class FleetSimulation(SimulationSettings settings, TextWriter output)
{
    private const string HqToken = "simulation-hq-admin";
    private const int Regions = 4;

    /// <summary>Products the tills sell.</summary>
    public static IReadOnlyList<string> Products { get; } = [.. Enumerable.Range(0, 20).Select(Gtin)];

    /// <summary>The products whose price HQ changes during the span: one for the whole fleet, one by region, one by store.</summary>
    public static (string Fleet, string Region, string Store) Changed { get; } = (Gtin(100), Gtin(101), Gtin(102));

    public async Task<SimulationVerdict> RunAsync(CancellationToken cancellationToken)
    {
        var directory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "outpost-sim-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var killable = FaultSchedule.Killable(settings.Stores, Math.Min(settings.ProcessStores, settings.Stores));
        var kills = FaultSchedule.Kills(settings.Seed, killable, settings.Span, killable.Count == 0 ? 0 : settings.Kills);
        var faults = FaultSchedule.Create(settings.Seed, settings.Stores, settings.Span);
        var plans = Enumerable.Range(0, settings.Stores)
            .Select(i => DailyCurve.SaleTimes(settings.Seed, i, Zone(i), SimulationSettings.Start, settings.Span, settings.SalesPerDay)).ToList();
        output.WriteLine($"simulate: {settings.Stores} stores x {settings.DevicesPerStore} tills, HQ {settings.HqNodes} node(s) on {settings.Hq}, {settings.Hours} simulated hours from {SimulationSettings.Start:yyyy-MM-dd HH:mm} UTC at {settings.Speed:N0}x, seed {settings.Seed}");
        output.WriteLine($"  planned: {plans.Sum(p => p.Count):N0} sales, {faults.Count:N0} link faults ({string.Join(", ", faults.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}), {kills.Count} SIGKILLs of the {killable.Count} stores run as processes of their own");

        var cpuBefore = Environment.CpuUsage.TotalTime;

        // HQ: one node on SQLite, or several stateless nodes sharing one PostgreSQL database (a throwaway local server).
        await using var postgres = settings.Hq == "postgres" ? new LocalPostgresServer(durable: true) : null;
        string? database = null;
        if (postgres is not null)
        {
            await postgres.StartAsync();
            database = await postgres.CreateDatabaseAsync(cancellationToken);
        }

        var nodes = Enumerable.Range(0, settings.HqNodes).Select(n => CentralHost.Build(new CentralOptions
        {
            DataDirectory = Path.Combine(directory, n == 0 ? "hq" : "hq" + (n + 1).ToString(CultureInfo.InvariantCulture)),
            Postgres = database,
            Urls = "http://127.0.0.1:0",
            Topics = RetailTopics.Catalog,
            AdminToken = HqToken,
        }, builder => builder.Logging.SetMinimumLevel(LogLevel.None))).ToList();
        var hq = nodes[0];
        var admins = nodes.Select(_ => new HttpClient { Timeout = TimeSpan.FromSeconds(30) }).ToList();
        admins.ForEach(a => a.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HqToken));
        var published = new List<PricePublished>();
        var stores = new List<SimulatedStore>();
        var passed = false;
        try
        {
            for (var n = 0; n < nodes.Count; n++)
            {
                await nodes[n].StartAsync(cancellationToken);
                admins[n].BaseAddress = nodes[n].Address();
            }

            await PublishCatalogAsync(admins[0], published, cancellationToken);
            var registry = hq.Services.GetRequiredService<StoreDirectory>();
            var started = new SimulatedStore?[settings.Stores];
            try
            {
                // Four at a time: a store server's start is mostly waiting (files, the first requests).
                await Parallel.ForEachAsync(Enumerable.Range(0, settings.Stores), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (i, ct) =>
                {
                    var region = "r" + (i % Regions).ToString(CultureInfo.InvariantCulture);
                    var secret = (await registry.RegisterOrRotateAsync(SimulatedStore.StoreId(i), region, ct)).Secret;
                    started[i] = await SimulatedStore.StartAsync(i, region, Zone(i), secret, nodes[i % nodes.Count].Address(), directory, settings.Seed, settings.DevicesPerStore, killable.Contains(i), ct);
                });
            }
            finally
            {
                stores.AddRange(started.OfType<SimulatedStore>());
            }

            // Every store has the catalog before the span starts: a till cannot sell what its store never received.
            await UntilAsync(async () => (await Task.WhenAll(stores.Select(s => s.PriceAsync(Products[^1], cancellationToken)))).All(p => p is not null),
                TimeSpan.FromMinutes(3), "every store had HQ's catalog", cancellationToken);
            output.WriteLine($"  {stores.Count} store servers up, each with HQ's catalog; the span starts");

            var acknowledged = new ConcurrentQueue<(string Store, string SaleId)>();
            var samples = new ConcurrentQueue<FleetSample>();
            var catchUps = new ConcurrentQueue<double>();
            var clock = Stopwatch.StartNew();
            TimeSpan RealAt(TimeSpan simulated) => TimeSpan.FromTicks((long)(simulated.Ticks / settings.Speed));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sampling = SampleAsync(stores, clock, samples, stop.Token);
            var selling = Task.WhenAll(stores.Select(s => s.SellAsync(plans[s.Index], RealAt, clock, Products, settings.Seed, (store, sale) => acknowledged.Enqueue((store, sale)), cancellationToken)));
            var faulting = Task.WhenAll(faults.Select(f => FaultAsync(stores[f.Store], f, RealAt, clock, catchUps, cancellationToken)));
            var recoveries = new ConcurrentQueue<double>();
            var killing = Task.WhenAll(kills.GroupBy(k => k.Store).Select(k => KillsAsync(stores[k.Key], [.. k], RealAt, clock, recoveries, cancellationToken)));
            var pricing = PricesAsync(admins, stores, RealAt, clock, published, cancellationToken);
            await Task.WhenAll(selling, pricing);
            var span = RealAt(settings.Span);
            if (span > clock.Elapsed)
            {
                await Task.Delay(span - clock.Elapsed, cancellationToken);
            }

            // The span is over: every link comes back (the stores offline all span among them), and the fleet settles.
            foreach (var store in stores)
            {
                store.Link.Mode = ProxyMode.Pass;
            }

            await faulting;
            await killing;
            var settling = Stopwatch.StartNew();
            var converged = await SimulationChecker.SettleAsync(output, hq, stores, published, TimeSpan.FromMinutes(5), cancellationToken);
            var settled = settling.Elapsed;
            await stop.CancelAsync();
            await sampling;
            output.WriteLine($"  span over after {clock.Elapsed.TotalSeconds:F0} s real; every link restored; the fleet {(converged ? "settled" : "did NOT settle")} in {settled.TotalSeconds:F1} s");

            if (settings.Inject is { } defect)
            {
                await SimulationChecker.InjectAsync(defect, hq, [.. acknowledged], cancellationToken);
                output.WriteLine($"  injected defect: {defect} (the checker must catch it)");
            }

            var verdict = await SimulationChecker.CheckAsync(settings, hq, stores, [.. acknowledged], published, [.. faults, .. kills], plans.Sum(p => p.Count), cancellationToken) with
            {
                Kills = stores.Sum(s => s.Kills),
                KillRecoverySeconds = Percentiles([.. recoveries]),
                SalesStartedAgain = stores.Sum(s => s.Restarted),
                SettleSeconds = settled.TotalSeconds,
                RealSeconds = clock.Elapsed.TotalSeconds,
                CatchUpSeconds = Percentiles([.. catchUps]),
                Samples = [.. samples],
                ProcessCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
                ProcessPeakMiB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024),
                HqDatabaseBytes = await DatabaseBytesAsync(database, directory, cancellationToken),
                WireBytes = stores.Sum(s => s.Link.BytesUp + s.Link.BytesDown),
            };
            passed = verdict.Passed;
            return verdict;
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                await node.StopAsync(CancellationToken.None);
                await node.DisposeAsync();
            }

            admins.ForEach(a => a.Dispose());
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

            // A folder of its own is kept only when the verdict failed: the files are the evidence.
            if (settings.DataDirectory is null && passed)
            {
                Directory.Delete(directory, recursive: true);
            }
            else
            {
                output.WriteLine($"  HQ's and the stores' files: {directory}");
            }
        }
    }

    private static async Task<long> DatabaseBytesAsync(string? postgres, string directory, CancellationToken cancellationToken)
    {
        if (postgres is null)
        {
            return Directory.GetFiles(Path.Combine(directory, "hq"), "hq.db*").Sum(f => new FileInfo(f).Length);
        }

        await using var connection = new Npgsql.NpgsqlConnection(postgres);
        await connection.OpenAsync(cancellationToken);
        await using var size = new Npgsql.NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
        return (long)(await size.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A product's GTIN (13 digits, with its check digit).</summary>
    public static string Gtin(int i)
    {
        var body = "20" + (1_000_000_000L + i).ToString(CultureInfo.InvariantCulture)[..10];
        return body + Outpost.Retail.Catalog.Gtin.CheckDigit(body).ToString(CultureInfo.InvariantCulture);
    }

    private static string Zone(int store) => DailyCurve.Zones[store % DailyCurve.Zones.Count];

    /// <summary>p50, p99 and max, as the benchmarks compute them; none for no samples.</summary>
    private static double[] Percentiles(IReadOnlyCollection<double> values) =>
        values.Count == 0 ? [] : Bench.Percentiles.Of(values) is var p ? [p.P50, p.P99, p.Max] : [];

    private static async Task PublishCatalogAsync(HttpClient admin, List<PricePublished> published, CancellationToken cancellationToken)
    {
        var from = new DateTime(2026, 1, 1);
        foreach (var (gtin, i) in Products.Concat([Changed.Fleet, Changed.Region, Changed.Store]).Select((g, i) => (g, i)))
        {
            await OkAsync(admin.PutAsJsonAsync($"/admin/products/{gtin}", new ProductBody(null, "Product " + i.ToString(CultureInfo.InvariantCulture), "grocery", "standard"), cancellationToken), cancellationToken);
        }

        foreach (var (gtin, i) in Products.Concat([Changed.Fleet, Changed.Region, Changed.Store]).Select((g, i) => (g, i)))
        {
            var amount = 1m + i % 9;
            await OkAsync(admin.PostAsJsonAsync("/admin/prices", new PriceBody(gtin, amount, "EUR", from, null, "*"), cancellationToken), cancellationToken);
            published.Add(new PricePublished(gtin, "*", amount));
        }
    }

    /// <summary>HQ changes a price every simulated 15 minutes: in turn for the whole fleet, one region, one store.</summary>
    private async Task PricesAsync(List<HttpClient> admins, List<SimulatedStore> stores, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, List<PricePublished> published, CancellationToken cancellationToken)
    {
        var from = new DateTime(2026, 1, 1);
        for (var k = 0; TimeSpan.FromMinutes(15 * (k + 1)) < settings.Span; k++)
        {
            await AtAsync(clock, realAt(TimeSpan.FromMinutes(15 * (k + 1))), cancellationToken);

            var (gtin, scope) = (k % 3) switch
            {
                0 => (Changed.Fleet, "*"),
                1 => (Changed.Region, "region:r" + (k / 3 % Regions).ToString(CultureInfo.InvariantCulture)),
                _ => (Changed.Store, "store:" + stores[(k * 7) % stores.Count].Id),
            };
            var amount = 2m + k * 0.01m;
            // On each HQ node in turn: a change committed on any node reaches the stores of every node.
            await OkAsync(admins[k % admins.Count].PostAsJsonAsync("/admin/prices", new PriceBody(gtin, amount, "EUR", from, null, scope), cancellationToken), cancellationToken);
            lock (published)
            {
                published.Add(new PricePublished(gtin, scope, amount));
            }
        }
    }

    /// <summary>Applies one fault at its simulated moment, lifts it at its end, and times the store's catch-up after it.</summary>
    private static async Task FaultAsync(SimulatedStore store, Fault fault, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, ConcurrentQueue<double> catchUps, CancellationToken cancellationToken)
    {
        await AtAsync(clock, realAt(fault.Start), cancellationToken);

        var length = realAt(fault.Duration);
        switch (fault.Kind)
        {
            case FaultKind.Flapping:
                await store.Link.FlapAsync(length, cancellationToken);
                break;
            case FaultKind.SlowLink:
                store.Link.Delay = TimeSpan.FromMilliseconds(200);
                store.Link.BytesPerSecond = 16 * 1024;
                await Task.Delay(length, cancellationToken);
                store.Link.Delay = TimeSpan.Zero;
                store.Link.BytesPerSecond = 0;
                break;
            case FaultKind.OfflineAllSpan:
                store.Link.Mode = ProxyMode.Reset;
                return; // lifted when the span ends; its catch-up is the settling
            default:
                store.Link.Mode = fault.Kind switch
                {
                    FaultKind.Blackhole => ProxyMode.Blackhole,
                    FaultKind.DropMidStream => ProxyMode.DropMidStream,
                    _ => ProxyMode.Reset,
                };
                await Task.Delay(length, cancellationToken);
                store.Link.Mode = ProxyMode.Pass;
                break;
        }

        catchUps.Enqueue(await CaughtUpAsync(store, Stopwatch.StartNew(), cancellationToken));
    }

    /// <summary>
    /// Seconds on <paramref name="since"/> once the store is online with nothing waiting to go up. Bounded at five
    /// minutes of real time: a store still behind then counts as five, so a slow catch-up shows in the percentiles.
    /// </summary>
    private static async Task<double> CaughtUpAsync(SimulatedStore store, Stopwatch since, CancellationToken cancellationToken)
    {
        var bound = TimeSpan.FromMinutes(5);
        while (since.Elapsed < bound && await store.StatusAsync(cancellationToken) is not { State: ConnectivityState.Online, UpBacklog: 0 })
        {
            await Task.Delay(50, cancellationToken);
        }

        return Math.Min(since.Elapsed.TotalSeconds, bound.TotalSeconds);
    }

    /// <summary>Waits until <paramref name="clock"/> reads <paramref name="at"/> (real time from the span's start); at once if it is past.</summary>
    public static async Task AtAsync(Stopwatch clock, TimeSpan at, CancellationToken cancellationToken)
    {
        var wait = at - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>
    /// Kills a store's process with SIGKILL at each of its moments, keeps it down for the kill's length, starts it
    /// again on the same files, and times it from the kill until it is online with nothing waiting to go up.
    /// </summary>
    private static async Task KillsAsync(SimulatedStore store, List<Fault> kills, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, ConcurrentQueue<double> recoveries, CancellationToken cancellationToken)
    {
        foreach (var kill in kills.OrderBy(k => k.Start))
        {
            await AtAsync(clock, realAt(kill.Start), cancellationToken);

            var down = Stopwatch.StartNew();
            await store.KillAsync();
            await Task.Delay(realAt(kill.Duration), cancellationToken);
            await store.StartProcessAsync(cancellationToken);
            recoveries.Enqueue(await CaughtUpAsync(store, down, cancellationToken));
        }
    }

    private async Task SampleAsync(List<SimulatedStore> stores, Stopwatch clock, ConcurrentQueue<FleetSample> samples, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var statuses = await Task.WhenAll(stores.Select(s => s.StatusAsync(cancellationToken)));
                samples.Enqueue(new FleetSample(clock.Elapsed.TotalSeconds * settings.Speed / 3600, statuses.Sum(s => s.UpBacklog),
                    statuses.Count(s => s.State != ConnectivityState.Online), Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024)));
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task OkAsync(Task<HttpResponseMessage> request, CancellationToken cancellationToken)
    {
        using var response = await request;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"HQ refused the simulation's master data: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The simulation waited {timeout.TotalSeconds:F0} s until {what}, in vain.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}

/// <summary>A price HQ published: the product, the scope (<c>*</c>, <c>region:…</c>, <c>store:…</c>) and the amount.</summary>
internal sealed record PricePublished(string Gtin, string Scope, decimal Amount);

/// <summary>The fleet at one moment: simulated hours since the start, events waiting to go up, stores not online, the process's memory.</summary>
internal sealed record FleetSample(double Hour, long Backlog, int NotOnline, double ResidentMiB);
