using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Outpost.Central.MasterData;
using Outpost.Core.Log;
using Outpost.Retail.Promotions;
using Outpost.Sync.Agent;
using Outpost.Sync.Faults;

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
    private const int Regions = 4;

    /// <summary>Products the tills sell.</summary>
    public static IReadOnlyList<string> Products { get; } = [.. Enumerable.Range(0, 20).Select(Gtin)];

    /// <summary>The kiosks' menu: the first products, each also a menu item with a recipe (priced by the same price book).</summary>
    public static IReadOnlyList<string> Menu { get; } = [.. Products.Take(4)];

    /// <summary>The products the handhelds count on the shelf (not on the menu: a count of 0 would take an item off it).</summary>
    public static IReadOnlyList<string> Counted { get; } = [.. Products.Skip(Menu.Count)];

    /// <summary>The products whose price HQ changes during the span: one for the whole fleet, one by region, one by store.</summary>
    public static (string Fleet, string Region, string Store) Changed { get; } = (Gtin(100), Gtin(101), Gtin(102));

    /// <summary>Every product HQ prices: the tills' products and the three whose price HQ changes (after both: static initialisers run in order).</summary>
    public static IReadOnlyList<string> Priced { get; } = [.. Products, Changed.Fleet, Changed.Region, Changed.Store];

    /// <summary>The shelf price HQ sets first for <see cref="Priced"/>[<paramref name="i"/>].</summary>
    public static decimal ShelfPrice(int i) => 1m + i % 9;

    public async Task<SimulationVerdict> RunAsync(CancellationToken cancellationToken)
    {
        var directory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "outpost-sim-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var killable = FaultSchedule.Killable(settings.Stores, Math.Min(settings.ProcessStores, settings.Stores));
        var kills = FaultSchedule.Kills(settings.Seed, killable, settings.Span, killable.Count == 0 ? 0 : settings.Kills);
        var faults = FaultSchedule.Create(settings.Seed, settings.Stores, settings.Span);
        var plans = Enumerable.Range(0, settings.Stores)
            .Select(i => DailyCurve.SaleTimes(settings.Seed, i, Zone(i), SimulationSettings.Start, settings.Span, settings.SalesPerDay)).ToList();
        var damage = FaultSchedule.DamagedRecords(settings.Seed, killable, settings.Span, settings.DamagedRecords, plans);

        // Each store's kiosk orders a quarter as often as its tills sell, its handheld counts a tenth as often, on the
        // same daily curve (a schedule of their own: other seeds).
        var orderPlans = Enumerable.Range(0, settings.Stores)
            .Select(i => DailyCurve.SaleTimes(StableSeed.Of(settings.Seed, 0x0da), i, Zone(i), SimulationSettings.Start, settings.Span, Math.Max(1, settings.SalesPerDay / 4))).ToList();
        var countPlans = Enumerable.Range(0, settings.Stores)
            .Select(i => DailyCurve.SaleTimes(StableSeed.Of(settings.Seed, 0xc0c), i, Zone(i), SimulationSettings.Start, settings.Span, Math.Max(1, settings.SalesPerDay / 10))).ToList();
        output.WriteLine($"simulate: {settings.Stores} stores x {settings.DevicesPerStore} tills, HQ {settings.HqNodes} node(s) on {settings.Hq}, {settings.Hours} simulated hours from {SimulationSettings.Start:yyyy-MM-dd HH:mm} UTC at {settings.Speed:N0}x, seed {settings.Seed}");
        output.WriteLine($"  planned: {plans.Sum(p => p.Count):N0} sales, {orderPlans.Sum(p => p.Count):N0} kiosk orders, {countPlans.Sum(p => p.Count):N0} stock counts, {faults.Count:N0} link faults ({string.Join(", ", faults.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}), {kills.Count} SIGKILLs of the {killable.Count} stores run as processes of their own, {damage.Count} record(s) damaged on disk there");

        var clocks = settings.ClockFaults ? [.. FaultSchedule.Clocks(settings.Seed, settings.Stores, settings.Span, killable), .. FaultSchedule.ProcessClocks(settings.Seed, killable, settings.Span)] : new List<Fault>();
        if (clocks.Count > 0)
        {
            output.WriteLine($"  stores' clocks: {string.Join(", ", clocks.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))} (ahead {FaultSchedule.ClockAhead.TotalHours:+0} h, behind {FaultSchedule.ClockBehind.TotalHours:0} h, a jump of {FaultSchedule.ClockJump.TotalHours:0} h)");
        }

        // Stand-ins: link faults of their own (fleet indices after the real stores), and SIGKILLs of their processes.
        var standInFaults = settings.StandIns == 0 ? [] : FaultSchedule.Create(StableSeed.Of(settings.Seed, 0x57a), settings.StandIns, settings.Span)
            .Select(f => f with { Store = settings.Stores + f.Store }).ToList();
        var standInProcesses = (settings.StandIns + StandInFleet.PerProcess - 1) / StandInFleet.PerProcess;
        var standInKills = FaultSchedule.Kills(StableSeed.Of(settings.Seed, 0x57b), Enumerable.Range(0, standInProcesses).ToHashSet(), settings.Span, settings.StandInKills);
        if (settings.StandIns > 0)
        {
            var standInSales = Enumerable.Range(settings.Stores, settings.StandIns).Sum(i => DailyCurve.SaleTimes(settings.Seed, i, Zone(i), SimulationSettings.Start, settings.Span, settings.SalesPerDay).Count);
            output.WriteLine($"  stand-ins: {settings.StandIns:N0} stores in {standInProcesses} process(es), {standInSales:N0} sales (at the lunch peak about {(settings.Stores + settings.StandIns) * settings.SalesPerDay * DailyCurve.Share(12) * settings.Speed / 3600:N0} a second real across the fleet), {standInFaults.Count:N0} link faults ({string.Join(", ", standInFaults.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}), {standInKills.Count} SIGKILLs of their processes");
        }

        var hqFaults = FaultSchedule.HqFaults(settings.Seed, settings.HqNodes, settings.Span, settings.HqKills, settings.PostgresRestarts, settings.LoseNode);
        if (hqFaults.Count > 0)
        {
            output.WriteLine($"  HQ's faults: {string.Join(", ", hqFaults.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}");
        }

        var cpuBefore = Environment.CpuUsage.TotalTime;

        // HQ: one node on SQLite in this process, or nodes of their own sharing one PostgreSQL database (a throwaway local server).
        await using var hq = await SimulatedHq.StartAsync(settings, directory, cancellationToken);
        var published = new List<PricePublished>();
        var stores = new List<SimulatedStore>();
        StandInFleet? standIns = null;
        var passed = false;
        try
        {
            await PublishCatalogAsync(hq.AdminOf(0), published, cancellationToken);
            var started = new SimulatedStore?[settings.Stores];
            try
            {
                // Four at a time: a store server's start is mostly waiting (files, the first requests).
                await Parallel.ForEachAsync(Enumerable.Range(0, settings.Stores), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (i, ct) =>
                {
                    var region = Region(i);
                    var secret = await hq.RegisterAsync(SimulatedStore.StoreId(i), region, ct);
                    var node = i % hq.Nodes;
                    var mine = clocks.Where(c => c.Store == i).ToList();
                    var offset = mine.FirstOrDefault(c => c.Kind is FaultKind.ClockAhead or FaultKind.ClockBehind)?.Kind switch
                    {
                        FaultKind.ClockAhead => FaultSchedule.ClockAhead,
                        FaultKind.ClockBehind => FaultSchedule.ClockBehind,
                        _ => TimeSpan.Zero,
                    };
                    started[i] = await SimulatedStore.StartAsync(i, region, Zone(i), secret, hq.Address(node), directory, settings.Seed, settings.DevicesPerStore, killable.Contains(i), offset, ct,
                        processClock: killable.Contains(i) && mine.Count > 0, versions: settings.EventVersionsOf(i));
                    started[i]!.HqNode = node;
                });
            }
            finally
            {
                stores.AddRange(started.OfType<SimulatedStore>());
            }

            // Every store has the catalog before the span starts: a till cannot sell what its store never received.
            await UntilAsync(async () => (await Task.WhenAll(stores.Select(s => s.HasCatalogAsync(Products[^1], Menu.Count, cancellationToken)))).All(ready => ready),
                TimeSpan.FromMinutes(3), "every store had HQ's catalog and menu", cancellationToken);
            if (settings.StandIns > 0)
            {
                standIns = await StandInFleet.StartAsync(settings, hq, settings.Stores, settings.StandIns, standInFaults, directory, Region, Zone, output, cancellationToken);
            }

            output.WriteLine($"  {stores.Count} store servers up, each with HQ's catalog; the span starts");

            var acknowledged = new ConcurrentQueue<(string Store, string SaleId)>();
            var samples = new ConcurrentQueue<FleetSample>();
            var catchUps = new ConcurrentQueue<CatchUpSample>();
            var clock = Stopwatch.StartNew();
            if (standIns is not null)
            {
                await standIns.SpanStartedAsync(DateTimeOffset.UtcNow, cancellationToken);
            }

            TimeSpan RealAt(TimeSpan simulated) => TimeSpan.FromTicks((long)(simulated.Ticks / settings.Speed));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sampling = SampleAsync(hq, stores, standIns, clock, samples, stop.Token);
            var probe = new LatencyProbe(hq, stores);
            using var probing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var probingUp = probe.UpAsync(probing.Token);
            var probesDown = new ConcurrentBag<Task>();
            var selling = Task.WhenAll(stores.Select(s => s.SellAsync(plans[s.Index], RealAt, clock, Products, settings.Seed, (store, sale) => acknowledged.Enqueue((store, sale)), cancellationToken)));
            var ordering = Task.WhenAll(stores.Select(s => s.OrderAsync(orderPlans[s.Index], RealAt, clock, Menu, settings.Seed, cancellationToken)));
            var counting = Task.WhenAll(stores.Select(s => s.CountAsync(countPlans[s.Index], RealAt, clock, Counted, settings.Seed, cancellationToken)));
            using var beating = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var heartbeats = Task.WhenAll(stores.Select(s => s.HeartbeatsAsync(TimeSpan.FromSeconds(20), beating.Token)));
            var faulting = Task.WhenAll(faults.Select(f => FaultAsync(stores[f.Store], f, RealAt, clock, catchUps, cancellationToken)));
            var restarts = new ConcurrentQueue<RestartSample>();
            var killing = Task.WhenAll(kills.Concat(damage).GroupBy(k => k.Store).Select(k => KillsAsync(stores[k.Key], [.. k], hq.Log, RealAt, clock, restarts, cancellationToken)));
            var jumping = Task.WhenAll(clocks.Where(c => c.Kind == FaultKind.ClockJumpBack).Select(async c =>
            {
                await AtAsync(clock, RealAt(c.Start), cancellationToken);
                stores[c.Store].JumpClock(FaultSchedule.ClockJump);
            }));
            var standInKilling = standIns?.KillsAsync(standInKills, RealAt, clock, cancellationToken) ?? Task.CompletedTask;
            var hqRecoveries = new ConcurrentQueue<double>();
            var hqFaulting = Task.WhenAll(hqFaults.Select(f => HqFaultAsync(hq, stores, f, RealAt, clock, hqRecoveries, cancellationToken)));
            var pricing = PricesAsync(hq, stores, RealAt, clock, published, probe, probesDown, cancellationToken);
            await Task.WhenAll(selling, ordering, counting, pricing);
            var span = RealAt(settings.Span);
            if (span > clock.Elapsed)
            {
                await Task.Delay(span - clock.Elapsed, cancellationToken);
            }

            await beating.CancelAsync();
            await heartbeats;

            await probing.CancelAsync();
            await probingUp;
            await Task.WhenAll(probesDown);

            // The span is over: every link comes back (the stores offline all span among them), and the fleet settles.
            foreach (var store in stores)
            {
                store.Link.Mode = ProxyMode.Pass;
            }

            await faulting;
            await killing;
            await standInKilling;
            await hqFaulting;
            await jumping;
            var settling = Stopwatch.StartNew();
            var converged = await SimulationChecker.SettleAsync(output, hq.Log, stores, published, TimeSpan.FromMinutes(5), cancellationToken)
                & (standIns is null || await SimulationChecker.SettleAsync(output, hq.Log, standIns, TimeSpan.FromMinutes(5), cancellationToken));
            var settled = settling.Elapsed;
            await stop.CancelAsync();
            await sampling;
            output.WriteLine($"  span over after {clock.Elapsed.TotalSeconds:F0} s real; every link restored; the fleet {(converged ? "settled" : "did NOT settle")} in {settled.TotalSeconds:F1} s");

            if (settings.Inject is { } defect)
            {
                await SimulationChecker.InjectAsync(defect, hq, [.. acknowledged], stores, cancellationToken);
                output.WriteLine($"  injected defect: {defect} (the checker must catch it)");
            }

            if (standIns is not null)
            {
                await standIns.StopAsync();
            }

            var verdict = await SimulationChecker.CheckAsync(settings, hq, stores, standIns, [.. acknowledged], published, [.. faults, .. kills, .. damage, .. hqFaults, .. clocks, .. standInFaults],
                (plans.Sum(p => p.Count), orderPlans.Sum(p => p.Count), countPlans.Sum(p => p.Count)), cancellationToken) with
            {
                Kills = stores.Sum(s => s.Kills),
                StandInProcesses = standIns?.Processes ?? 0,
                StandInKills = standIns?.Kills ?? 0,
                StandInCpuSeconds = standIns?.CpuSeconds,
                KillRecoverySeconds = Percentiles([.. restarts.Where(r => !r.CutShort).Select(r => r.CaughtUpSeconds)]),
                KillRecoveryAloneSeconds = Percentiles([.. restarts.Where(r => !r.LinkFault && !r.CutShort).Select(r => r.CaughtUpSeconds)]),
                StartSeconds = Percentiles([.. restarts.Select(r => r.StartSeconds)]),
                Restarts = [.. restarts.OrderBy(r => r.Hour)],
                HqRecoverySeconds = Percentiles([.. hqRecoveries]),
                SalesStartedAgain = stores.Sum(s => s.Restarted),
                SettleSeconds = settled.TotalSeconds,
                RealSeconds = clock.Elapsed.TotalSeconds,
                CatchUpSeconds = Percentiles([.. catchUps.Select(c => c.Seconds)]),
                CatchUps = [.. catchUps.OrderBy(c => c.Hour)],
                UpLatencySeconds = Percentiles(probe.Up),
                UpLatencySamples = probe.Up.Count,
                DownLatencySeconds = Percentiles(probe.Down),
                DownLatencySamples = probe.Down.Count,
                Samples = [.. samples],
                ProcessCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
                ProcessPeakMiB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024),
                ProcessPeakOpenFiles = samples.Max(s => s.OpenFiles),
                OpenFilesLimit = OpenFiles.Limit,
                HqCpuSeconds = hq.CpuSeconds,
                HqPeakMiB = hq.Apart && !samples.IsEmpty ? samples.Max(s => s.HqResidentMiB) : null,
                HqDatabaseBytes = await hq.DatabaseBytesAsync(cancellationToken),
                WireBytes = stores.Sum(s => s.Link.BytesUp + s.Link.BytesDown),
            };
            passed = verdict.Passed;
            return verdict;
        }
        finally
        {
            if (standIns is not null)
            {
                await standIns.DisposeAsync();
            }

            await TearDownAsync(stores, hq, settings, directory, passed, output);
        }
    }

    /// <summary>
    /// Stops the stores and HQ; deletes the run's own folder when the verdict passed, else names it (the files are the
    /// evidence). A folder given with <c>--data</c> is always kept.
    /// </summary>
    internal static async Task TearDownAsync(IReadOnlyList<SimulatedStore> stores, SimulatedHq hq, SimulationSettings settings, string directory, bool passed, TextWriter output)
    {
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        await hq.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (settings.DataDirectory is null && passed)
        {
            Directory.Delete(directory, recursive: true);
        }
        else
        {
            output.WriteLine($"  HQ's and the stores' files: {directory}");
        }
    }

    /// <summary>A product's GTIN (13 digits, with its check digit).</summary>
    public static string Gtin(int i)
    {
        var body = "20" + (1_000_000_000L + i).ToString(CultureInfo.InvariantCulture)[..10];
        return body + Outpost.Retail.Catalog.Gtin.CheckDigit(body).ToString(CultureInfo.InvariantCulture);
    }

    private static string Zone(int store) => DailyCurve.ZoneOf(store);

    private static string Region(int store) => "r" + (store % Regions).ToString(CultureInfo.InvariantCulture);

    /// <summary>p50, p99 and max, as the benchmarks compute them; none for no samples.</summary>
    private static double[] Percentiles(IReadOnlyCollection<double> values) =>
        values.Count == 0 ? [] : Bench.Percentiles.Of(values) is var p ? [p.P50, p.P99, p.Max] : [];

    /// <summary>HQ's catalog before the span: every product, the menu with its recipes, each product's first shelf price for the whole fleet.</summary>
    internal static async Task PublishCatalogAsync(HttpClient admin, List<PricePublished> published, CancellationToken cancellationToken)
    {
        var from = new DateTime(2026, 1, 1);
        foreach (var (gtin, i) in Priced.Select((g, i) => (g, i)))
        {
            await OkAsync(admin.PutAsJsonAsync($"/admin/products/{gtin}", new ProductBody(null, "Product " + i.ToString(CultureInfo.InvariantCulture), "grocery", "standard"), cancellationToken), cancellationToken);
        }

        foreach (var (code, i) in Menu.Select((c, i) => (c, i)))
        {
            await OkAsync(admin.PutAsJsonAsync($"/admin/menu/{code}", new MenuItemBody("Menu item " + i.ToString(CultureInfo.InvariantCulture), "mains", "standard",
                [new Outpost.Retail.Catalog.RecipeLine("bun", true), new Outpost.Retail.Catalog.RecipeLine("sauce", false)]), cancellationToken), cancellationToken);
        }

        foreach (var (gtin, i) in Priced.Select((g, i) => (g, i)))
        {
            var amount = ShelfPrice(i);
            await OkAsync(admin.PostAsJsonAsync("/admin/prices", new PriceBody(gtin, amount, "EUR", from, null, "*"), cancellationToken), cancellationToken);
            published.Add(new PricePublished(gtin, "*", amount));
        }
    }

    /// <summary>HQ changes a price every simulated 15 minutes: in turn for the whole fleet, one region, one store.</summary>
    private async Task PricesAsync(SimulatedHq hq, List<SimulatedStore> stores, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, List<PricePublished> published,
        LatencyProbe probe, ConcurrentBag<Task> probesDown, CancellationToken cancellationToken)
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
            await AdministerAsync(hq, k, admin => admin.PostAsJsonAsync("/admin/prices", new PriceBody(gtin, amount, "EUR", from, null, scope), cancellationToken), cancellationToken);
            var acknowledgedAt = Stopwatch.GetTimestamp();
            lock (published)
            {
                published.Add(new PricePublished(gtin, scope, amount));
            }

            var inScope = stores.Where(s => scope == "*" || scope == "region:" + s.Region || scope == "store:" + s.Id).ToList();
            probesDown.Add(probe.DownAsync(acknowledgedAt, gtin, amount, inScope, cancellationToken));

            // Every other change a promotion for the same scope (one of five, each replaced in turn), every third a
            // store setting: the checker compares each key's latest event at HQ and at each store in scope.
            if (k % 2 == 1)
            {
                var promotion = new PromotionDefinitionV1("sim-promo-" + (k % 5).ToString(CultureInfo.InvariantCulture), "Simulated offer " + k.ToString(CultureInfo.InvariantCulture),
                    "percentOff", [Products[k % Products.Count]], null, Percent: 5 + k % 20);
                await AdministerAsync(hq, k, admin => admin.PostAsJsonAsync("/admin/promotions", new PromotionBody(scope, "EUR", promotion), cancellationToken), cancellationToken);
            }

            if (k % 3 == 2)
            {
                var footer = System.Text.Json.JsonSerializer.SerializeToElement("Thank you, change " + k.ToString(CultureInfo.InvariantCulture));
                await AdministerAsync(hq, k, admin => admin.PutAsJsonAsync("/admin/config/receipt.footer", new ConfigBody(scope, footer), cancellationToken), cancellationToken);
            }
        }
    }

    /// <summary>
    /// One change through HQ's admin API, on node <paramref name="turn"/> modulo the nodes (through the balancer: the
    /// next node that runs); HQ's operator retries while HQ is down (a node killed, the database restarting), for up
    /// to five minutes: with one node lost, the other's two kills and their restarts under thousands of reconnecting
    /// stores can keep HQ from answering for more than two.
    /// </summary>
    private static async Task AdministerAsync(SimulatedHq hq, int turn, Func<HttpClient, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        var trying = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await OkAsync(send(hq.AdminOf(hq.Route(turn % hq.Nodes) ?? turn % hq.Nodes)), cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException && trying.Elapsed < SimulatedHq.Patience && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 << Math.Min(attempt, 5))), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Applies one of HQ's faults at its simulated moment: a node killed (its stores fail over to another node, as
    /// behind a load balancer, and come back when it is up again), a node lost for good, or the database crashed and
    /// restarted. Times HQ's recovery: from the kill until the node answers again, from the crash until every node
    /// running reads the database again.
    /// </summary>
    private async Task HqFaultAsync(SimulatedHq hq, List<SimulatedStore> stores, Fault fault, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, ConcurrentQueue<double> recoveries, CancellationToken cancellationToken)
    {
        await AtAsync(clock, realAt(fault.Start), cancellationToken);
        var down = Stopwatch.StartNew();
        hq.Faults.Begin();
        try
        {
            await ApplyHqFaultAsync(hq, stores, fault, realAt, down, recoveries, cancellationToken);
        }
        finally
        {
            // The stores it moved reconnect within the agent's back-off (a second at most) after HQ is back.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            hq.Faults.End();
        }
    }

    private async Task ApplyHqFaultAsync(SimulatedHq hq, List<SimulatedStore> stores, Fault fault, Func<TimeSpan, TimeSpan> realAt, Stopwatch down, ConcurrentQueue<double> recoveries, CancellationToken cancellationToken)
    {
        switch (fault.Kind)
        {
            case FaultKind.HqKill:
                await hq.KillAndRestartAsync(fault.Store, realAt(fault.Duration), () => Reroute(hq, stores), cancellationToken);
                break;
            case FaultKind.HqNodeLost:
                await hq.LoseAsync(fault.Store);
                Reroute(hq, stores);
                output.WriteLine($"  {SimulatedHq.Name(fault.Store)} lost for good at {fault.Start.TotalHours:F2} simulated hours; its stores carried by the others");
                return;
            case FaultKind.PostgresRestart:
                await hq.RestartDatabaseAsync(realAt(fault.Duration), cancellationToken);
                var accepting = down.Elapsed;
                await UntilAsync(() => hq.ReadsDatabaseAsync(cancellationToken), SimulatedHq.Patience, "every HQ node read its database again after PostgreSQL's restart", cancellationToken);
                output.WriteLine($"  PostgreSQL crashed at {fault.Start.TotalHours:F2} simulated hours: accepting connections after {accepting.TotalSeconds:F1} s real (its WAL replayed), read by every node after {down.Elapsed.TotalSeconds:F1} s");
                recoveries.Enqueue(down.Elapsed.TotalSeconds);
                return;
            default:
                throw new ArgumentException($"{fault.Kind} is not one of HQ's faults.", nameof(fault));
        }

        recoveries.Enqueue(down.Elapsed.TotalSeconds);
        output.WriteLine($"  {SimulatedHq.Name(fault.Store)} killed at {fault.Start.TotalHours:F2} simulated hours: answering again after {down.Elapsed.TotalSeconds:F1} s real");
    }

    /// <summary>The load balancer: every store's link goes to its home node while that runs, else to the next node that does.</summary>
    private static void Reroute(SimulatedHq hq, List<SimulatedStore> stores)
    {
        lock (stores)
        {
            foreach (var store in stores)
            {
                if (hq.Route(store.Index % hq.Nodes) is { } node && node != store.HqNode)
                {
                    store.HqNode = node;
                    store.Link.SwitchTo(hq.Address(node));
                }
            }
        }
    }

    /// <summary>Applies one fault at its simulated moment, lifts it at its end, and times the store's catch-up after it.</summary>
    private static async Task FaultAsync(SimulatedStore store, Fault fault, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, ConcurrentQueue<CatchUpSample> catchUps, CancellationToken cancellationToken)
    {
        await AtAsync(clock, realAt(fault.Start), cancellationToken);
        store.Faults.Begin(); // ended once the store has caught up after it (never, for a store offline all span)

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

        catchUps.Enqueue(new CatchUpSample(Math.Round(fault.End.TotalHours, 3), await CaughtUpAsync(store, Stopwatch.StartNew(), cancellationToken), fault.Kind.ToString()));
        store.Faults.End();
    }

    /// <summary>
    /// Seconds on <paramref name="since"/> once the store is online with nothing waiting to go up. Bounded at five
    /// minutes of real time: a store still behind then counts as five, so a slow catch-up shows in the percentiles.
    /// </summary>
    private static async Task<double> CaughtUpAsync(SimulatedStore store, Stopwatch since, CancellationToken cancellationToken) =>
        (await CaughtUpAsync(store, since, () => false, cancellationToken)).Seconds;

    /// <summary>As the other overload, and stops early once <paramref name="stop"/> says so (then <c>CutShort</c>: the seconds so far, not caught up).</summary>
    private static async Task<(double Seconds, bool CutShort)> CaughtUpAsync(SimulatedStore store, Stopwatch since, Func<bool> stop, CancellationToken cancellationToken)
    {
        var bound = TimeSpan.FromMinutes(5);
        while (since.Elapsed < bound && await store.StatusAsync(cancellationToken) is not { State: ConnectivityState.Online, UpBacklog: 0 })
        {
            if (stop())
            {
                return (since.Elapsed.TotalSeconds, true);
            }

            await Task.Delay(50, cancellationToken);
        }

        return (Math.Min(since.Elapsed.TotalSeconds, bound.TotalSeconds), false);
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
    /// again on the same files, and times it from the kill until it is online with nothing waiting to go up. The
    /// schedule holds: a store still catching up when its next kill is due is killed on time, and that sample is
    /// counted as cut short (else a slow catch-up on a busy machine pushes the next kills, a damaged record among them,
    /// past the moment the schedule drew for them, past the store's last sales).
    /// </summary>
    private async Task KillsAsync(SimulatedStore store, List<Fault> kills, IEventLog hqLog, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, ConcurrentQueue<RestartSample> restarts, CancellationToken cancellationToken)
    {
        var ordered = kills.OrderBy(k => k.Start).ToList();
        for (var k = 0; k < ordered.Count; k++)
        {
            var kill = ordered[k];
            var next = k + 1 < ordered.Count ? realAt(ordered[k + 1].Start) : TimeSpan.MaxValue;
            await AtAsync(clock, realAt(kill.Start), cancellationToken);

            var down = Stopwatch.StartNew();
            var starting = new Stopwatch();
            store.Faults.Begin();
            var (faultsThen, faultsEver) = (store.Faults.Now, store.Faults.Ever);
            if (kill.Kind == FaultKind.DamagedRecord)
            {
                // A kill too: its recovery, the link's return included, is timed with the others.
                await DamagedRecordFault.ApplyAsync(store, kill, hqLog, realAt, clock, output, starting, cancellationToken);
            }
            else
            {
                await store.KillAsync();
                await Task.Delay(realAt(kill.Duration), cancellationToken);
                starting.Start();
                await store.StartProcessAsync(cancellationToken);
                starting.Stop();
            }

            var (caughtUp, cutShort) = await CaughtUpAsync(store, down, () => clock.Elapsed >= next, cancellationToken);
            var linkFault = faultsThen > 1 || store.Faults.Ever != faultsEver;
            restarts.Enqueue(new RestartSample(store.Id, Math.Round(kill.Start.TotalHours, 3), starting.Elapsed.TotalSeconds, caughtUp, kill.Kind.ToString(), linkFault) { CutShort = cutShort });
            store.Faults.End();
        }
    }

    private async Task SampleAsync(SimulatedHq hq, List<SimulatedStore> stores, StandInFleet? standIns, Stopwatch clock, ConcurrentQueue<FleetSample> samples, CancellationToken cancellationToken)
    {
        var (cpu, at) = (hq.CpuSeconds ?? 0, clock.Elapsed);
        var openWarned = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var statuses = await Task.WhenAll(stores.Select(s => s.StatusAsync(cancellationToken)));
                var others = standIns is null ? null : await standIns.StatusAsync(cancellationToken);
                var (cpuNow, now) = (hq.CpuSeconds ?? 0, clock.Elapsed);
                var open = OpenFiles.Count();
                samples.Enqueue(new FleetSample(now.TotalSeconds * settings.Speed / 3600, statuses.Sum(s => s.UpBacklog) + (others?.UpBacklog ?? 0),
                    statuses.Count(s => s.State != ConnectivityState.Online) + (others?.NotOnline ?? 0), Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024),
                    hq.ResidentMiB ?? 0, now > at ? (cpuNow - cpu) / (now - at).TotalSeconds * 100 : 0) { OpenFiles = open });
                if (open > OpenFiles.Limit * 0.8 && !openWarned)
                {
                    // Past the limit the runtime fails to map memory and says "Out of memory." (what 20,000 stores did):
                    // said here first, so an aborted run says why.
                    openWarned = true;
                    output.WriteLine($"  warning: this process holds {open:N0} open files and sockets of its limit {OpenFiles.Limit:N0} at {now.TotalSeconds * settings.Speed / 3600:F2} simulated hours");
                }

                (cpu, at) = (cpuNow, now);
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Awaits one of the simulation's master-data requests to HQ; a refusal breaks the run, with HQ's answer.</summary>
    internal static async Task OkAsync(Task<HttpResponseMessage> request, CancellationToken cancellationToken)
    {
        using var response = await request;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"HQ refused the simulation's master data: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling every 100 ms; a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    internal static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
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

/// <summary>
/// The fleet at one moment: simulated hours since the start, events waiting to go up, stores not online, the
/// simulation's process's memory; HQ's nodes' memory and HQ's CPU since the last sample (percent of one core: its
/// nodes and its database server), both 0 when HQ shares the simulation's process.
/// </summary>
internal sealed record FleetSample(double Hour, long Backlog, int NotOnline, double ResidentMiB, double HqResidentMiB, double HqCpuPercent)
{
    /// <summary>The simulation's process's open files and sockets (null where the system does not say).</summary>
    public int? OpenFiles { get; init; }
}

/// <summary>One store's catch-up after one of its link faults: when the fault ended (simulated hours), the real seconds until it was online with nothing waiting, and the fault's kind.</summary>
internal sealed record CatchUpSample(double Hour, double Seconds, string Kind);

/// <summary>
/// One SIGKILL of a store process: the store, the simulated hour of the kill, the real seconds its start took (until
/// <c>/health/ready</c>) and from the kill until it was online with nothing waiting, the fault's kind, and whether a
/// fault of its link ran at some moment meanwhile (then the link's fault, not the restart, may be what took the time).
/// </summary>
internal sealed record RestartSample(string Store, double Hour, double StartSeconds, double CaughtUpSeconds, string Kind, bool LinkFault)
{
    /// <summary>The store's next kill came before it caught up: <see cref="CaughtUpSeconds"/> is the time until then, left out of the percentiles.</summary>
    public bool CutShort { get; init; }
}
