using System.Diagnostics;
using System.Net.Http.Json;
using Outpost.Central.Admin;
using Outpost.Central.Stores;
using Outpost.Retail.Pricing;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Bench;

/// <summary>
/// Thousands of stores holding down-feed long polls, spread over one or more HQ nodes on one PostgreSQL database
/// and simulated by several processes (<see cref="PollerFleet"/>), while HQ publishes: price changes for every store,
/// published on each node in turn; then changes for one region and for one store, which must wake only the stores
/// they concern. Measures publish → at every store, where the time goes at HQ (its down-feed stages, from each
/// node's <c>/metrics</c>), and each node's memory and CPU.
/// </summary>
internal sealed class FanOutPhase(TextWriter output, IReadOnlyList<(OutpostProcess Process, HttpClient Admin)> nodes, IReadOnlyList<IssuedCredential> stores, int processes, int changes,
    string database, TimeSpan every)
{
    private static readonly string[] Stages = [Sync.Hq.SyncMetrics.Feed, Sync.Hq.SyncMetrics.Wake, Sync.Hq.SyncMetrics.Read, Sync.Hq.SyncMetrics.Respond, Sync.Hq.SyncMetrics.Authenticate];
    private const int ScopedChanges = 5;
    private readonly Dictionary<string, (long At, int Expected, int Node)> _published = new(StringComparer.Ordinal);
    private readonly List<double> _publishMs = [];

    public async Task<FanOutResult> RunAsync(CancellationToken cancellationToken)
    {
        var urls = nodes.Select(n => n.Admin.BaseAddress!).ToList();
        output.WriteLine($"  fan-out: {stores.Count:N0} stores following the down feed (a stream each) over {nodes.Count} HQ node(s) ({stores.Count / nodes.Count:N0} each), simulated by {processes} process(es) of their own");
        await using var fleet = await PollerFleet.StartAsync([.. stores.Select(s => (s.StoreId, s.Secret))], urls, processes, cancellationToken);
        var usage = nodes.Select(n => new ProcessUsage(n.Process)).ToList();
        var pollerUsage = fleet.Processes.Select(p => new ProcessUsage(p)).ToList();
        var resident = nodes.Select(n => n.Process.ResidentBytes).ToArray();
        var before = await ScrapeAsync(cancellationToken);
        var hqCpuBefore = nodes.Sum(n => n.Process.CpuTime.TotalSeconds);
        var storesCpuBefore = fleet.Processes.Sum(p => p.CpuTime.TotalSeconds);

        // Every store: one change every interval (a second by default), published on each node in turn.
        for (var change = 0; change < changes; change++)
        {
            await PublishAsync($"{PollerFleet.KeyPrefix}all-{change}", "*", stores.Count, change % nodes.Count, cancellationToken);
            await Task.Delay(every, cancellationToken);
            Sample(resident);
        }

        await Task.Delay(3000, cancellationToken);
        var hqCpu = nodes.Sum(n => n.Process.CpuTime.TotalSeconds) - hqCpuBefore;
        var storesCpu = fleet.Processes.Sum(p => p.CpuTime.TotalSeconds) - storesCpuBefore;
        var afterAll = await ScrapeAsync(cancellationToken);
        var headAll = await HeadAsync(cancellationToken);

        // One region, then one store: only those stores' polls may wake.
        var regions = stores.GroupBy(s => s.Region).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var regionExpected = 0;
        for (var change = 0; change < ScopedChanges; change++)
        {
            var target = regions[change % regions.Count];
            regionExpected += target.Count();
            await PublishAsync($"{PollerFleet.KeyPrefix}region-{change}", "region:" + target.Key, target.Count(), change % nodes.Count, cancellationToken);
            await Task.Delay(1000, cancellationToken);
            Sample(resident);
        }

        await Task.Delay(2000, cancellationToken);
        var afterRegion = await ScrapeAsync(cancellationToken);
        var headRegion = await HeadAsync(cancellationToken);
        for (var change = 0; change < ScopedChanges; change++)
        {
            await PublishAsync($"{PollerFleet.KeyPrefix}store-{change}", "store:" + stores[change * 97 % stores.Count].StoreId, 1, change % nodes.Count, cancellationToken);
            await Task.Delay(1000, cancellationToken);
            Sample(resident);
        }

        await Task.Delay(2000, cancellationToken);
        var afterStore = await ScrapeAsync(cancellationToken);
        var headStore = await HeadAsync(cancellationToken);
        var regionConcerned = await ConcernedAsync(headAll, headRegion, cancellationToken);
        var storeConcerned = await ConcernedAsync(headRegion, headStore, cancellationToken);
        var nodeCpu = usage.Select(u => u.CpuPercent).ToList();
        var pollerCpu = pollerUsage.Sum(u => u.CpuPercent);
        var pollerResident = fleet.Processes.Sum(p => p.ResidentBytes);
        var (receipts, errors) = await fleet.StopAsync(cancellationToken);

        var all = Deliveries(receipts, "all-", out var missingAll, out var extraAll);
        var region = Deliveries(receipts, "region-", out var missingRegion, out var extraRegion);
        var store = Deliveries(receipts, "store-", out var missingStore, out var extraStore);
        var byNode = Enumerable.Range(0, nodes.Count).Select(n => Percentiles.Of(LatenciesOf(receipts, "all-", n))).ToList();
        var missing = missingAll + missingRegion + missingStore;
        var extra = extraAll + extraRegion + extraStore;

        output.WriteLine($"  price change for every store, {changes} changes {(every == TimeSpan.FromSeconds(1) ? "one a second" : $"one every {every.TotalMilliseconds:N0} ms")} -> at every store {all}{(missingAll > 0 ? $", {missingAll:N0} deliveries missing" : ", every store received every one")}");
        if (nodes.Count > 1)
        {
            output.WriteLine("    by the node it was published on: " + string.Join("; ", byNode.Select((p, n) => $"node {n + 1}: p50 {p.P50:F0} ms, p99 {p.P99:F0} ms")));
        }

        // The floor on this machine: what one change to every store costs in CPU, HQ's and the stores', over its cores.
        var deliveries = (double)stores.Count * changes;
        var hqMicros = hqCpu / deliveries * 1e6;
        var storeMicros = storesCpu / deliveries * 1e6;
        var floorMs = stores.Count * (hqMicros + storeMicros) / 1000 / Environment.ProcessorCount;
        output.WriteLine($"    CPU per delivery: HQ {hqMicros:F1} µs, the simulated store {storeMicros:F1} µs; one change to all {stores.Count:N0} stores is {stores.Count * (hqMicros + storeMicros) / 1000:N0} ms of CPU:");
        output.WriteLine($"    on {Environment.ProcessorCount} cores the last store cannot have it before {floorMs:N0} ms (this machine's floor; HQ's share alone: {stores.Count * hqMicros / 1000 / Environment.ProcessorCount:N0} ms)");
        var publish = Percentiles.Of(_publishMs);
        output.WriteLine($"    publish (admin POST until committed, part of the above): p50 {publish.P50:F1} ms, p99 {publish.P99:F1} ms");
        var stages = afterAll.Since(before);
        output.WriteLine("    at HQ, summed over the nodes (p50 / p99 per store woken, from each node's /metrics):");
        var stageFigures = new Dictionary<string, StageFigure>(StringComparer.Ordinal);
        foreach (var stage in Stages)
        {
            var figure = new StageFigure(stages.Timed(ServerMetrics.StageMethod, stage), stages.Percentile(ServerMetrics.StageMethod, stage, 0.5) ?? 0, stages.Percentile(ServerMetrics.StageMethod, stage, 0.99) ?? 0);
            stageFigures[stage] = figure;
            output.WriteLine($"      {stage,-13} {figure.Count,9:N0} times   p50 {figure.P50Ms,8:F2} ms   p99 {figure.P99Ms,8:F2} ms   {Explain(stage)}");
        }

        // A collection pauses every poll the node holds: counted over the changes for every store, all nodes summed.
        output.WriteLine($"    HQ's garbage collector meanwhile (summed over the nodes): {stages.Collections:N0} collections ({stages.FullCollections:N0} of them full), paused {stages.PauseSeconds * 1000:N0} ms in all");

        var regionWakes = afterRegion.Since(afterAll).Timed(ServerMetrics.StageMethod, Sync.Hq.SyncMetrics.Wake);
        var storeWakes = afterStore.Since(afterRegion).Timed(ServerMetrics.StageMethod, Sync.Hq.SyncMetrics.Wake);
        output.WriteLine($"  a change for one region, {ScopedChanges} changes: at its stores {region}");
        output.WriteLine($"    polls woken at HQ {regionWakes:N0}; the down events of that stretch concern {regionConcerned.Polls:N0} of the {stores.Count:N0} held polls ({regionExpected:N0} for these changes{Others(regionConcerned)})");
        output.WriteLine($"  a change for one store, {ScopedChanges} changes: at the store {store}");
        output.WriteLine($"    polls woken at HQ {storeWakes:N0}; the down events of that stretch concern {storeConcerned.Polls:N0} held polls ({ScopedChanges} for these changes{Others(storeConcerned)})");
        if (missing > 0 || extra > 0 || errors > 0)
        {
            output.WriteLine($"  !! {missing:N0} deliveries missing, {extra:N0} to stores not concerned, {errors:N0} poll errors at the stores");
            foreach (var (what, count) in fleet.ErrorKinds.OrderByDescending(k => k.Value).Take(3))
            {
                output.WriteLine($"     {count:N0} x {what}");
            }

            foreach (var (process, _) in nodes.Where(n => n.Process.Tail.Contains("fail:", StringComparison.Ordinal)))
            {
                output.WriteLine($"     HQ node {process.Id}'s last output:{Environment.NewLine}{process.Tail}");
            }
        }

        for (var n = 0; n < nodes.Count; n++)
        {
            output.WriteLine($"  HQ node {n + 1} while holding them: {resident[n] / 1048576.0,6:F0} MiB resident at most, CPU {nodeCpu[n]:F0}% of one core");
        }

        if (fleet.ConnectRetries > 0)
        {
            output.WriteLine($"  (while the {stores.Count:N0} stores connected at once, before the measurement, {fleet.ConnectRetries:N0} connections failed and were retried)");
        }

        output.WriteLine($"  the simulated stores ({processes} processes): CPU {pollerCpu:F0}% of one core, {pollerResident / 1048576.0:F0} MiB resident (the client side shares these 2 cores with HQ)");
        return new FanOutResult
        {
            Stores = stores.Count,
            Nodes = nodes.Count,
            PollerProcesses = processes,
            Changes = changes,
            ChangeEveryMs = every.TotalMilliseconds,
            GcCollections = stages.Collections,
            GcPauseMs = Math.Round(stages.PauseSeconds * 1000),
            DeliveryP50Ms = all.P50,
            DeliveryP99Ms = all.P99,
            DeliveryMaxMs = all.Max,
            DeliveryP99MsByNode = [.. byNode.Select(p => p.P99)],
            PublishP99Ms = Math.Round(publish.P99, 2),
            HqCpuMicrosPerDelivery = Math.Round(hqMicros, 1),
            StoreCpuMicrosPerDelivery = Math.Round(storeMicros, 1),
            FloorMs = Math.Round(floorMs),
            DeliveriesMissing = missing,
            DeliveriesToOthers = extra,
            PollErrors = errors,
            Stages = stageFigures,
            RegionDeliveryP99Ms = region.P99,
            RegionWakes = regionWakes,
            RegionStoresConcerned = regionConcerned.Polls,
            StoreDeliveryP99Ms = store.P99,
            StoreWakes = storeWakes,
            StoreStoresConcerned = storeConcerned.Polls,
            ResidentMiBByNode = [.. resident.Select(r => Math.Round(r / 1048576.0))],
            CpuPercentByNode = [.. nodeCpu.Select(c => Math.Round(c))],
            PollersCpuPercent = Math.Round(pollerCpu),
        };
    }

    private static string Others((long Polls, int OwnEvents, long OwnPolls) concerned) =>
        concerned.OwnEvents == 0 ? "" : $", {concerned.OwnPolls:N0} for {concerned.OwnEvents} event(s) HQ published itself meanwhile, such as each region's stock summary";

    /// <summary>HQ's log head, read from its database.</summary>
    private async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync(cancellationToken);
        await using var head = new Npgsql.NpgsqlCommand("SELECT seq FROM log_head WHERE id = 1", connection);
        return (long)(await head.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// How many held polls the down events committed in (<paramref name="from"/>, <paramref name="to"/>] concern, by
    /// their scopes: the most a feed that wakes only the stores concerned may wake (events found together wake a
    /// poll once). HQ publishes down events of its own too (each region's stock summary): those are counted apart.
    /// </summary>
    private async Task<(long Polls, int OwnEvents, long OwnPolls)> ConcernedAsync(long from, long to, CancellationToken cancellationToken)
    {
        var regions = stores.GroupBy(s => s.Region, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var held = stores.Select(s => s.StoreId).ToHashSet(StringComparer.Ordinal);
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync(cancellationToken);
        await using var read = new Npgsql.NpgsqlCommand("SELECT scope, key FROM events WHERE down AND seq > $1 AND seq <= $2", connection)
        {
            Parameters = { new() { Value = from }, new() { Value = to } },
        };
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        long polls = 0, ownPolls = 0;
        var own = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var scope = Core.Events.Scope.Parse(reader.GetString(0));
            long concerned = scope.Kind switch
            {
                Core.Events.ScopeKind.All => stores.Count,
                Core.Events.ScopeKind.Region => regions.GetValueOrDefault(scope.Id!),
                _ => held.Contains(scope.Id!) ? 1 : 0,
            };
            polls += concerned;
            if (!reader.GetString(1).StartsWith(PollerFleet.KeyPrefix, StringComparison.Ordinal))
            {
                own++;
                ownPolls += concerned;
            }
        }

        return (polls, own, ownPolls);
    }

    private static string Explain(string stage) => stage switch
    {
        Sync.Hq.SyncMetrics.Feed => "the node reads the new change into its window (once a commit, for every poll)",
        Sync.Hq.SyncMetrics.Wake => "the window has it -> the held poll runs again (the thread pool's queue)",
        Sync.Hq.SyncMetrics.Read => "the poll takes its scopes' events from the window",
        Sync.Hq.SyncMetrics.Respond => "encode, compress, write the answer",
        _ => "stores connecting again (a stream is checked once; a long poll each time)",
    };

    private async Task PublishAsync(string key, string scope, int expected, int node, CancellationToken cancellationToken)
    {
        var at = Stopwatch.GetTimestamp();
        _published[key] = (at, expected, node);
        using var response = await nodes[node].Admin.PostAsJsonAsync("admin/events",
            new PublishEvent(PricingEvents.PricesTopic, PricingEvents.PriceSet, key, scope,
                System.Text.Json.JsonDocument.Parse("""{"gtin":"5012345678900","amount":1.29,"currency":"EUR","fromLocal":"2026-01-01T06:00:00","toLocal":null}""").RootElement), cancellationToken);
        response.EnsureSuccessStatusCode();
        _publishMs.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
    }

    private void Sample(long[] resident)
    {
        for (var n = 0; n < nodes.Count; n++)
        {
            resident[n] = Math.Max(resident[n], nodes[n].Process.ResidentBytes);
        }
    }

    private Percentiles Deliveries(Dictionary<string, List<long>> receipts, string kind, out long missing, out long extra)
    {
        missing = extra = 0;
        foreach (var (key, (_, expected, _)) in _published.Where(p => p.Key.StartsWith(PollerFleet.KeyPrefix + kind, StringComparison.Ordinal)))
        {
            var got = receipts.TryGetValue(key, out var times) ? times.Count : 0;
            missing += Math.Max(0, expected - got);
            extra += Math.Max(0, got - expected);
        }

        return Percentiles.Of(LatenciesOf(receipts, kind, null));
    }

    private IEnumerable<double> LatenciesOf(Dictionary<string, List<long>> receipts, string kind, int? node) =>
        _published.Where(p => p.Key.StartsWith(PollerFleet.KeyPrefix + kind, StringComparison.Ordinal) && (node is null || p.Value.Node == node))
            .SelectMany(p => receipts.TryGetValue(p.Key, out var times) ? times.Select(t => Stopwatch.GetElapsedTime(p.Value.At, t).TotalMilliseconds) : []);

    private async Task<ServerMetrics> ScrapeAsync(CancellationToken cancellationToken)
    {
        ServerMetrics? sum = null;
        foreach (var (_, admin) in nodes)
        {
            var one = await ServerMetrics.ScrapeAsync(admin, cancellationToken);
            sum = sum is null ? one : sum.Plus(one);
        }

        return sum!;
    }
}

/// <summary>One down-feed stage at HQ: how many times it ran and how long it took, in milliseconds.</summary>
internal sealed record StageFigure(double Count, double P50Ms, double P99Ms);

/// <summary>What the fan-out phase of <c>outpost bench hq</c> measured.</summary>
internal sealed record FanOutResult
{
    public required int Stores { get; init; }

    public required int Nodes { get; init; }

    public required int PollerProcesses { get; init; }

    public required int Changes { get; init; }

    /// <summary>The time between two changes for every store (their fan-outs overlap when it is shorter than one takes).</summary>
    public double ChangeEveryMs { get; init; }

    /// <summary>HQ's garbage collections over the changes for every store, summed over the nodes.</summary>
    public double GcCollections { get; init; }

    /// <summary>How long those collections paused HQ, in milliseconds, summed over the nodes.</summary>
    public double GcPauseMs { get; init; }

    public required double DeliveryP50Ms { get; init; }

    public required double DeliveryP99Ms { get; init; }

    public required double DeliveryMaxMs { get; init; }

    /// <summary>The p99 of the changes published on each node.</summary>
    public required IReadOnlyList<double> DeliveryP99MsByNode { get; init; }

    public required double PublishP99Ms { get; init; }

    /// <summary>HQ's CPU (all nodes) per change delivered to one store, in microseconds, over the changes for every store.</summary>
    public required double HqCpuMicrosPerDelivery { get; init; }

    /// <summary>The simulated stores' CPU per change received, in microseconds.</summary>
    public required double StoreCpuMicrosPerDelivery { get; init; }

    /// <summary>One change to every store, in CPU, over this machine's cores: the soonest the last store can have it here.</summary>
    public required double FloorMs { get; init; }

    public required long DeliveriesMissing { get; init; }

    /// <summary>Deliveries to stores a scoped change did not concern (must be 0).</summary>
    public required long DeliveriesToOthers { get; init; }

    public required long PollErrors { get; init; }

    public required IReadOnlyDictionary<string, StageFigure> Stages { get; init; }

    public required double RegionDeliveryP99Ms { get; init; }

    public required double RegionWakes { get; init; }

    /// <summary>The held polls the down events of the region stretch concern (the benchmark's and HQ's own): the wakes expected at most.</summary>
    public required long RegionStoresConcerned { get; init; }

    public required double StoreDeliveryP99Ms { get; init; }

    public required double StoreWakes { get; init; }

    public required long StoreStoresConcerned { get; init; }

    public required IReadOnlyList<double> ResidentMiBByNode { get; init; }

    public required IReadOnlyList<double> CpuPercentByNode { get; init; }

    public required double PollersCpuPercent { get; init; }
}
