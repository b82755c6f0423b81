using System.Diagnostics;
using System.Text.Json;
using Outpost.Central.Ingest;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;
using Outpost.Retail.Inventory;
using Outpost.Retail.Orders;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;
using Outpost.Retail.Telemetry;
using Outpost.Sync.Agent;

namespace Outpost.Cli.Simulation;

/// <summary>
/// What must hold after a simulation, checked against the data itself: HQ's log, each store's log, each store's
/// price answer and HQ's sales read model, never against the simulation's own counters alone. A sale a till saw
/// acknowledged must be at its store and at HQ exactly once; every store must hold exactly HQ's prices for its
/// scopes and answer the price HQ set for it; HQ's sales by day must equal a recount of the sales HQ holds.
/// </summary>
internal static class SimulationChecker
{
    private static readonly ReadFilter Sales = ReadFilter.ForTopics(CheckoutEvents.SalesTopic);

    /// <summary>Waits (at most <paramref name="timeout"/>) until every store is online with HQ holding all its sales and it all HQ's prices for it.</summary>
    public static async Task<bool> SettleAsync(TextWriter output, IEventLog hqLog, IReadOnlyList<SimulatedStore> stores, IReadOnlyList<PricePublished> published, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Pass after pass over the stores not settled yet, HQ read once a pass.
        var waited = Stopwatch.StartNew();
        var told = TimeSpan.FromSeconds(30);
        var pending = stores.ToList();
        while (true)
        {
            var snapshot = pending.Any(s => !s.Killable) ? await SnapshotAsync(hqLog, cancellationToken) : null;
            var still = new List<(SimulatedStore Store, string Why)>();
            foreach (var store in pending)
            {
                if (await UnsettledAsync(snapshot, store, published, cancellationToken) is { } divergence)
                {
                    still.Add((store, divergence));
                }
            }

            if (still.Count == 0)
            {
                return true;
            }

            if (waited.Elapsed > timeout)
            {
                return false;
            }

            if (waited.Elapsed > told)
            {
                output.WriteLine($"    still settling after {waited.Elapsed.TotalSeconds:F0} s: {still.Count} store(s); {still[0].Store.Id}: {still[0].Why}");
                told += TimeSpan.FromSeconds(30);
            }

            pending = [.. still.Select(s => s.Store)];
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Damages HQ's data the way a defect would, so that a test can show the verdict catches it: <c>lose-one-sale</c>
    /// deletes one acknowledged sale from HQ's log; <c>double-one-sale</c> stores one sale a second time;
    /// <c>double-one-order</c> stores one confirmed kiosk order a second time.
    /// </summary>
    /// <summary>The defects <see cref="InjectAsync"/> knows, for the messages that list them.</summary>
    public const string Defects = "lose-one-sale, lose-one-stand-in-sale, double-one-sale, double-one-order";

    public static async Task InjectAsync(string defect, SimulatedHq hq, IReadOnlyList<(string Store, string SaleId)> acknowledged, IReadOnlyList<SimulatedStore> stores,
        CancellationToken cancellationToken)
    {
        var hqLog = hq.Log;
        if (defect == "double-one-order")
        {
            var orderId = stores.SelectMany(s => s.Orders).FirstOrDefault() ?? throw new InvalidOperationException("No order was confirmed: there is nothing to damage.");
            await foreach (var e in hqLog.EnumerateAsync(ReadFilter.ForTopics(OrderEvents.OrdersTopic), pageSize: 5000, cancellationToken: cancellationToken))
            {
                if (e.Key == orderId && e.Type == OrderEvents.OrderPlaced)
                {
                    await StoreAgainAsync(hqLog, e, cancellationToken);
                    return;
                }
            }

            throw new InvalidOperationException($"Order {orderId} is not at HQ: there is nothing to damage.");
        }

        StoredEvent sale;
        if (defect == "lose-one-stand-in-sale")
        {
            sale = await FindSaleAsync(hqLog, e => e.Key.Contains(StandInStore.SaleMark, StringComparison.Ordinal), cancellationToken)
                ?? throw new InvalidOperationException("No stand-in's sale is at HQ: there is nothing to damage (run with --stand-ins).");
        }
        else
        {
            var victim = acknowledged.Count > 0 ? acknowledged[acknowledged.Count / 2].SaleId : throw new InvalidOperationException("No sale was acknowledged: there is nothing to damage.");
            sale = await FindSaleAsync(hqLog, e => e.Key == victim, cancellationToken) ?? throw new InvalidOperationException($"Sale {victim} is not at HQ: there is nothing to damage.");
        }

        switch (defect)
        {
            case "lose-one-sale" or "lose-one-stand-in-sale" when hq.Postgres is { } postgres:
                await using (var connection = new Npgsql.NpgsqlConnection(postgres))
                {
                    await connection.OpenAsync(cancellationToken);
                    await using var delete = new Npgsql.NpgsqlCommand("DELETE FROM events WHERE seq = @seq", connection);
                    delete.Parameters.AddWithValue("seq", sale.Seq);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                break;
            case "lose-one-sale" or "lose-one-stand-in-sale":
                await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={hq.Directory}/hq.db"))
                {
                    await connection.OpenAsync(cancellationToken);
                    await using var delete = connection.CreateCommand();
                    delete.CommandText = "DELETE FROM events WHERE seq = $seq";
                    delete.Parameters.AddWithValue("$seq", sale.Seq);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                break;
            case "double-one-sale":
                await StoreAgainAsync(hqLog, sale, cancellationToken);
                break;
            default:
                throw new ArgumentException($"'{defect}' is not a defect the simulation can inject: {Defects}.", nameof(defect));
        }
    }

    public static async Task<SimulationVerdict> CheckAsync(SimulationSettings settings, SimulatedHq hq, IReadOnlyList<SimulatedStore> stores, StandInFleet? standIns,
        IReadOnlyList<(string Store, string SaleId)> acknowledged, IReadOnlyList<PricePublished> published, IReadOnlyList<Fault> faults, (int Sales, int Orders, int Counts) planned, CancellationToken cancellationToken)
    {
        var hqLog = hq.Log;

        // Every sale HQ holds, by sale id; and what each store's origin sent, for the recount.
        var atHq = new Dictionary<string, int>(StringComparer.Ordinal);
        var recount = new Dictionary<string, (long Sales, decimal Total)>(StringComparer.Ordinal);
        // Version skew: the stores on the previous release write SaleCompleted v1, the others v2; HQ reads both.
        var writes = Enumerable.Range(0, settings.Stores + settings.StandIns).ToDictionary(SimulatedStore.StoreId, i => settings.OnPreviousRelease(i) ? 1 : CheckoutEvents.SaleCompletedVersion, StringComparer.Ordinal);
        var byVersion = new SortedDictionary<int, int>();
        var wrongVersion = new List<string>();
        await foreach (var e in hqLog.EnumerateAsync(Sales, pageSize: 5000, cancellationToken: cancellationToken))
        {
            if (e.Type != CheckoutEvents.SaleCompleted)
            {
                continue;
            }

            atHq[e.Key] = atHq.GetValueOrDefault(e.Key) + 1;
            byVersion[e.Version] = byVersion.GetValueOrDefault(e.Version) + 1;
            if (writes.GetValueOrDefault(e.Origin.Node.Value) != e.Version && wrongVersion.Count < 20)
            {
                wrongVersion.Add($"{e.Key}: v{e.Version} from {e.Origin.Node.Value}, which writes v{writes.GetValueOrDefault(e.Origin.Node.Value)}");
            }

            var total = JsonDocument.Parse(e.Payload).RootElement.GetProperty("total").GetDecimal();
            var before = recount.GetValueOrDefault(e.Origin.Node.Value);
            recount[e.Origin.Node.Value] = (before.Sales + 1, before.Total + total);
        }

        // Each store's price answers first, and what a store with a damaged record says of it: reading a store's log below
        // stops a store that runs as a process.
        var wrong = stores.ToDictionary(s => s.Id, _ => new List<string>(), StringComparer.Ordinal);
        var damagedUnreported = 0;
        foreach (var store in stores)
        {
            wrong[store.Id].AddRange(await WrongPricesAsync(published, store, cancellationToken));
            if (!store.Damaged.IsEmpty)
            {
                damagedUnreported += await UnreportedDamageAsync(hq, store, cancellationToken);
            }
        }

        var damaged = stores.SelectMany(s => s.Damaged).Select(d => d.SaleId).ToHashSet(StringComparer.Ordinal);

        var snapshot = await SnapshotAsync(hqLog, cancellationToken);

        // Every order HQ holds, by order id (an order's id is unique across the fleet).
        var ordersAtHq = await CountByKeyAsync(hqLog, OrderEvents.OrdersTopic, OrderEvents.OrderPlaced, cancellationToken);
        var orders = new OrdersChecked();
        var atStores = new HashSet<string>(StringComparer.Ordinal);
        var countsAtStores = 0;
        foreach (var store in stores)
        {
            var log = await store.LogAsync();
            // A damaged record is stepped over (and its sale is one the simulation damaged, or the check below finds it lost).
            await foreach (var e in log.EnumerateAsync(Sales, pageSize: 5000, stepOver: static (_, _) => ValueTask.CompletedTask, cancellationToken: cancellationToken))
            {
                if (e.Type == CheckoutEvents.SaleCompleted)
                {
                    atStores.Add(e.Key);
                }
            }

            // The kiosk's orders: each confirmed one at the store and at HQ; no order placed twice, neither as a second
            // copy of one event nor as a second order for one the kiosk sent again (the store holds no more orders
            // than the kiosk was told of, plus those it gave up on without an answer, its store up or down).
            var ordersHere = await CountByKeyAsync(log, OrderEvents.OrdersTopic, OrderEvents.OrderPlaced, cancellationToken);
            var confirmed = store.Orders.ToList();
            orders.Acknowledged += confirmed.Count;
            orders.LostAtStore += confirmed.Count(o => !ordersHere.ContainsKey(o));
            orders.LostAtHq += confirmed.Count(o => !ordersAtHq.ContainsKey(o));
            orders.Doubled += ordersHere.Values.Sum(n => n - 1) + Math.Max(0, ordersHere.Count - confirmed.Count - store.OrdersGivenUp - store.OrdersWhileDown);
            countsAtStores += (await CountByKeyAsync(log, InventoryEvents.StockTopic, InventoryEvents.StockCounted, cancellationToken)).Values.Sum();

            if (await DivergenceAsync(snapshot, store.Id, store.Region, store.Damaged.Count, log, cancellationToken) is { } divergence)
            {
                wrong[store.Id].Add(divergence);
            }
        }

        // A sale whose record the simulation damaged is the disk's loss, counted apart; it must never reach HQ.
        var others = standIns is null ? new StandInsChecked() : await CheckStandInsAsync(settings, snapshot, standIns, atHq, wrong, cancellationToken);
        var lostAtHq = acknowledged.Count(a => !atHq.ContainsKey(a.SaleId) && !damaged.Contains(a.SaleId)) + others.LostAtHq;
        var lostAtStore = acknowledged.Count(a => !atStores.Contains(a.SaleId) && !damaged.Contains(a.SaleId));
        var doubled = atHq.Values.Sum(n => n - 1) + others.DoubledAtStore;

        // Convergence: the event logs agree both ways, and each store answers the price HQ set for it.
        var notConverged = wrong.Where(w => w.Value.Count > 0).Select(w => $"{w.Key}: {string.Join("; ", w.Value)}").Order(StringComparer.Ordinal).ToList();

        // HQ's sales read model against the recount. Its consumer may still be applying the last sales: a minute, and
        // longer (five at most) while its checkpoint still moves. A mismatch that stays says where the checkpoint is:
        // behind HQ's head, the model lags; at it, the model skipped something.
        var deadline = Stopwatch.StartNew();
        var modelMismatches = await ReadModelMismatchesAsync(hqLog, recount, cancellationToken);
        var checkpoint = await hqLog.GetCursorAsync(Outpost.Core.Consumers.ConsumerRunner.CursorName(SalesByDay.ConsumerName), cancellationToken);
        var moved = Stopwatch.StartNew();
        while (modelMismatches.Count > 0 && (deadline.Elapsed < TimeSpan.FromMinutes(1) || moved.Elapsed < TimeSpan.FromSeconds(30) && deadline.Elapsed < TimeSpan.FromMinutes(5)))
        {
            await Task.Delay(250, cancellationToken);
            modelMismatches = await ReadModelMismatchesAsync(hqLog, recount, cancellationToken);
            var now = await hqLog.GetCursorAsync(Outpost.Core.Consumers.ConsumerRunner.CursorName(SalesByDay.ConsumerName), cancellationToken);
            if (now != checkpoint)
            {
                (checkpoint, moved) = (now, Stopwatch.StartNew());
            }
        }

        if (modelMismatches.Count > 0)
        {
            var head = (await hqLog.ReadAsync(Math.Max(0, (checkpoint ?? 0) - 1), ReadFilter.All, 10_000, cancellationToken)).ScannedTo;
            modelMismatches.Add($"HQ's sales read model has read HQ's log to {checkpoint?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}; HQ's log reaches {head} or further");
        }

        orders.Doubled += ordersAtHq.Values.Sum(n => n - 1);
        var countsAcknowledged = stores.Sum(s => s.CountsAcknowledged);
        return new SimulationVerdict
        {
            Seed = settings.Seed,
            Command = settings.Command,
            Stores = settings.Stores,
            Hq = settings.Hq,
            HqNodes = settings.HqNodes,
            DevicesPerStore = settings.DevicesPerStore,
            SimulatedHours = settings.Hours,
            StandIns = settings.StandIns,
            Planned = planned.Sales + others.Planned,
            Acknowledged = acknowledged.Count + others.Acknowledged,
            FailedAtDevice = stores.Sum(s => s.FailedAtDevice + s.OrdersGivenUp + s.CountsGivenUp),
            SalesWhileDown = stores.Sum(s => s.SalesWhileDown),
            OrdersWhileDown = stores.Sum(s => s.OrdersWhileDown),
            StockCountsWhileDown = stores.Sum(s => s.CountsWhileDown),
            DamagedPlanned = faults.Count(f => f.Kind == FaultKind.DamagedRecord),
            DamagedRecords = damaged.Count,
            DamagedAtHq = damaged.Count(atHq.ContainsKey),
            DamagedUnreported = damagedUnreported,
            OrdersPlanned = planned.Orders,
            OrdersAcknowledged = orders.Acknowledged,
            OrdersAtHq = ordersAtHq.Values.Sum(),
            OrdersLost = orders.LostAtStore + orders.LostAtHq,
            OrdersDoubled = orders.Doubled,
            StockCountsPlanned = planned.Counts,
            StockCountsAcknowledged = countsAcknowledged,
            StockCountsLost = Math.Max(0, countsAcknowledged - countsAtStores),
            Heartbeats = await hqLog.CountAsync(0, new ReadFilter { Topics = [TelemetryEvents.Topic], Types = [TelemetryEvents.DeviceHeartbeat] }, cancellationToken),
            StoredAtHq = atHq.Values.Sum(),
            Lost = lostAtHq + lostAtStore,
            LostAtHq = lostAtHq,
            LostAtStore = lostAtStore,
            Doubled = doubled,
            Converged = stores.Count + settings.StandIns - notConverged.Count,
            NotConverged = notConverged,
            ReadModelMismatches = modelMismatches,
            PricesPublished = published.Count,
            Faults = faults.GroupBy(f => f.Kind.ToString()).ToDictionary(g => g.Key, g => g.Count()),
            PreviousRelease = writes.Values.Count(v => v == 1),
            SalesAtHqByVersion = byVersion.ToDictionary(v => "v" + v.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), v => v.Value),
            WrongVersion = wrongVersion,
            ParkedAtHq = [.. (await hqLog.GetDeadLettersAsync(cancellationToken: cancellationToken)).Select(d => $"{d.Consumer} parked {d.Type} at {d.Seq}")],
        };
    }

    /// <summary>The stores whose sales in HQ's sales-by-day read model differ from the recount of HQ's log.</summary>
    private static async Task<List<string>> ReadModelMismatchesAsync(IEventLog hqLog, Dictionary<string, (long Sales, decimal Total)> recount, CancellationToken cancellationToken)
    {
        var days = await SalesByDay.QueryAsync(hqLog, null, "2000-01-01", "2100-01-01", cancellationToken);
        var model = days.GroupBy(d => d.StoreId).ToDictionary(g => g.Key, g => (Sales: g.Sum(d => d.Sales), Total: g.Sum(d => d.Total)), StringComparer.Ordinal);
        var mismatches = new List<string>();
        foreach (var id in recount.Keys.Union(model.Keys))
        {
            var (sales, total) = recount.GetValueOrDefault(id);
            var (modelSales, modelTotal) = model.GetValueOrDefault(id);
            if (sales != modelSales || total != modelTotal)
            {
                mismatches.Add($"{id}: HQ's sales by day say {modelSales} sales, {modelTotal}; its log holds {sales}, {total}");
            }
        }

        return mismatches;
    }

    /// <summary>The price HQ set for a store: the most specific scope that names it (store, then region, then all), the last one published there.</summary>
    private static decimal? Expected(IReadOnlyList<PricePublished> published, string gtin, SimulatedStore store)
    {
        var mine = published.Where(p => p.Gtin == gtin).ToList();
        return (mine.LastOrDefault(p => p.Scope == "store:" + store.Id) ?? mine.LastOrDefault(p => p.Scope == "region:" + store.Region) ?? mine.LastOrDefault(p => p.Scope == "*"))?.Amount;
    }

    /// <summary>Why a store has not settled yet, or null: it is online, nothing waits to go up, and it holds what HQ holds for it.</summary>
    private static async Task<string?> UnsettledAsync(HqSnapshot? hq, SimulatedStore store, IReadOnlyList<PricePublished> published, CancellationToken cancellationToken)
    {
        var status = await store.StatusAsync(cancellationToken);
        if (status.State != ConnectivityState.Online)
        {
            return $"{status.State} since {status.Since:HH:mm:ss}: {status.LastError}";
        }

        if (!store.Killable)
        {
            return await DivergenceAsync(hq!, store.Id, store.Region, store.Damaged.Count, await store.LogAsync(), cancellationToken);
        }

        // A store in a process of its own is asked over its API (its log is read once it is stopped, for the verdict).
        var wrong = await WrongPricesAsync(published, store, cancellationToken);
        return status.UpBacklog == 0 && wrong.Count == 0 ? null : $"up backlog {status.UpBacklog}; {string.Join("; ", wrong)}";
    }

    /// <summary>
    /// How many of the store's damaged records it does not report: its status (the back office's) must count each one the
    /// up link stepped over, and HQ's fleet view must show the store's report of them.
    /// </summary>
    private static async Task<int> UnreportedDamageAsync(SimulatedHq hq, SimulatedStore store, CancellationToken cancellationToken)
    {
        var status = await store.StatusAsync(cancellationToken);
        var fleet = await hq.FleetErrorAsync(store.Id, cancellationToken);
        var reported = status.NotSent == store.Damaged.Count && status.LastNotSent == store.Damaged.Max(d => d.Seq)
            && fleet?.Contains($"event {status.LastNotSent}", StringComparison.Ordinal) == true;
        return reported ? 0 : store.Damaged.Count;
    }

    /// <summary>The changed products whose price the store answers differently from what HQ set for it.</summary>
    private static async Task<List<string>> WrongPricesAsync(IReadOnlyList<PricePublished> published, SimulatedStore store, CancellationToken cancellationToken)
    {
        var wrong = new List<string>();
        foreach (var gtin in new[] { FleetSimulation.Changed.Fleet, FleetSimulation.Changed.Region, FleetSimulation.Changed.Store })
        {
            var expected = Expected(published, gtin, store);
            var actual = await store.PriceAsync(gtin, cancellationToken);
            if (actual != expected)
            {
                wrong.Add($"{gtin} at {actual?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, HQ set {expected}");
            }
        }

        return wrong;
    }

    /// <summary>
    /// Up topics whose every event a store makes must reach HQ: a sale's three records, the kiosk's orders, the
    /// handheld's counts and the devices' heartbeats (telemetry may be evicted past its byte budget while offline; a
    /// simulated store stays far below it, so every heartbeat must arrive too).
    /// </summary>
    private static readonly string[] UpChecked =
        [CheckoutEvents.SalesTopic, CheckoutEvents.PaymentsTopic, CheckoutEvents.ReceiptsTopic, OrderEvents.OrdersTopic, InventoryEvents.StockTopic, TelemetryEvents.Topic];

    /// <summary>
    /// The store server's own reports (its health every minute, its warnings) are telemetry it keeps writing while it
    /// runs, up to its last moment: the exact count leaves them out, since one written while the check reads would
    /// differ without anything being lost. The devices' events are counted.
    /// </summary>
    private static readonly string[] TelemetryCounted = [TelemetryEvents.DeviceHeartbeat, TelemetryEvents.DeviceEnrolled, TelemetryEvents.DeviceRevoked];

    /// <summary>Whether an up event of this topic and type counts in the exact comparison of a store's log with HQ's.</summary>
    internal static bool Counted(string topic, string type) => topic != TelemetryEvents.Topic || TelemetryCounted.Contains(type);

    private static ReadFilter CountedIn(string topic) =>
        topic == TelemetryEvents.Topic ? new ReadFilter { Topics = [topic], Types = TelemetryCounted } : ReadFilter.ForTopics(topic);

    /// <summary>Down topics HQ changes during the span (compacted: each key's latest event counts).</summary>
    private static readonly string[] DownChecked = [PricingEvents.PricesTopic, PromotionEvents.PromotionsTopic, "config"];

    /// <summary>
    /// How a store's log and HQ's differ, or null: HQ holds as many of its sales, payments and receipts as it does;
    /// it holds each key's latest price, promotion and setting that HQ holds for its scopes.
    /// </summary>
    private static async Task<string?> DivergenceAsync(HqSnapshot hq, string storeId, string region, int damagedSales, IEventLog storeLog, CancellationToken cancellationToken)
    {
        var differences = new List<string>();
        foreach (var topic in UpChecked)
        {
            var atHq = hq.UpCount(storeId, topic);
            // A record damaged on disk is counted here (counting reads no contents) and never sent.
            var here = await storeLog.CountAsync(0, CountedIn(topic), cancellationToken) - (topic == CheckoutEvents.SalesTopic ? damagedSales : 0);
            if (atHq != here)
            {
                differences.Add($"{topic} here {here}, at HQ {atHq}");
            }
        }

        // Compacted topics: either side may have dropped the versions a later event of the same key replaced, each
        // at its own retention run. What must agree is the latest event of every key.
        foreach (var topic in DownChecked)
        {
            var atHq = hq.Latest(topic, region, storeId);
            var here = await LatestByKeyAsync(storeLog, ReadFilter.ForTopics(topic), cancellationToken);
            var differing = atHq.Count(p => !here.TryGetValue(p.Key, out var mine) || mine != p.Value) + here.Keys.Count(k => !atHq.ContainsKey(k));
            if (differing > 0)
            {
                differences.Add($"{topic}: {differing} of {atHq.Count} keys not at HQ's latest");
            }
        }

        return differences.Count == 0 ? null : string.Join("; ", differences);
    }

    /// <summary>Each key's latest event, named by its origin: the same event at HQ and at a store has the same origin and origin seq.</summary>
    private static async Task<Dictionary<string, EventOrigin>> LatestByKeyAsync(IEventLog log, ReadFilter filter, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<string, EventOrigin>(StringComparer.Ordinal);
        await foreach (var e in log.EnumerateAsync(filter, pageSize: 5000, cancellationToken: cancellationToken))
        {
            latest[e.Key] = e.Origin with { Timestamp = default };
        }

        return latest;
    }

    private static Task<HqSnapshot> SnapshotAsync(IEventLog hqLog, CancellationToken cancellationToken) => HqSnapshot.ReadAsync(hqLog, UpChecked, DownChecked, cancellationToken);

    /// <summary>A second copy of an event, as HQ's own (the defect a broken dedup would make).</summary>
    private static async Task StoreAgainAsync(IEventLog log, StoredEvent e, CancellationToken cancellationToken) =>
        await log.AppendAsync(new NewEvent { Topic = e.Topic, Type = e.Type, Key = e.Key, Scope = e.Scope, Payload = e.Payload.ToArray() }, cancellationToken);

    /// <summary>How many events of a type each key has on a topic.</summary>
    private static async Task<Dictionary<string, int>> CountByKeyAsync(IEventLog log, string topic, string type, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var e in log.EnumerateAsync(ReadFilter.ForTopics(topic), pageSize: 5000, cancellationToken: cancellationToken))
        {
            if (e.Type == type)
            {
                counts[e.Key] = counts.GetValueOrDefault(e.Key) + 1;
            }
        }

        return counts;
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until every stand-in has made its planned sales, is online, has nothing
    /// waiting to go up, has received everything HQ has for it, and HQ holds every sale in its log.
    /// </summary>
    public static async Task<bool> SettleAsync(TextWriter output, IEventLog hqLog, StandInFleet standIns, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var told = TimeSpan.FromSeconds(30);
        while (true)
        {
            // Their status first (cheap); then the data, since a status can be a moment stale: a request swallowed by a
            // blackhole leaves the last report standing (online, nothing waiting) until the agent's request timeout.
            var status = await standIns.StatusAsync(cancellationToken);
            var behind = status.Settled ? await StandInsBehindAsync(hqLog, standIns, cancellationToken) : null;
            if (status.Settled && behind is null)
            {
                return true;
            }

            if (waited.Elapsed > timeout)
            {
                return false;
            }

            if (waited.Elapsed > told)
            {
                output.WriteLine($"    stand-ins still settling after {waited.Elapsed.TotalSeconds:F0} s: {status.Appended} of {status.Planned} sales made, {status.NotOnline} not online, up backlog {status.UpBacklog}, down lag {status.DownLag}; {behind ?? string.Join("; ", status.Unsettled)}");
                told += TimeSpan.FromSeconds(30);
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>
    /// The first stand-in whose completed sales HQ does not all hold yet, read from its log file while its process runs
    /// (read only: SQLite's WAL lets a reader in beside the writer), or null when HQ holds every one.
    /// </summary>
    private static async Task<string?> StandInsBehindAsync(IEventLog hqLog, StandInFleet standIns, CancellationToken cancellationToken)
    {
        var snapshot = await SnapshotAsync(hqLog, cancellationToken);
        foreach (var spec in standIns.Stores)
        {
            long here;
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
            {
                DataSource = StandInStore.LogPath(standIns.Directory, spec.Id),
                Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ToString()))
            {
                await connection.OpenAsync(cancellationToken);
                await using var count = connection.CreateCommand();
                count.CommandText = "SELECT count(*) FROM events WHERE topic = $topic";
                count.Parameters.AddWithValue("$topic", CheckoutEvents.SalesTopic);
                here = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            }

            var atHq = snapshot.UpCount(spec.Id, CheckoutEvents.SalesTopic);
            if (atHq < here)
            {
                return $"{spec.Id}: {here} sales here, {atHq} at HQ";
            }
        }

        return null;
    }

    /// <summary>
    /// Each stand-in's log, opened as the last SIGKILL left it: every sale in it (acknowledged to its till) must be at HQ
    /// once (copies are counted with HQ's, by sale id), it must hold every sale its schedule planned, and it must agree
    /// with HQ both ways (<see cref="DivergenceAsync"/>).
    /// </summary>
    private static async Task<StandInsChecked> CheckStandInsAsync(SimulationSettings settings, HqSnapshot snapshot, StandInFleet standIns, Dictionary<string, int> atHq,
        Dictionary<string, List<string>> wrong, CancellationToken cancellationToken)
    {
        var result = new StandInsChecked();
        foreach (var spec in standIns.Stores)
        {
            result.Planned += DailyCurve.SaleTimes(settings.Seed, spec.Index, spec.Zone, SimulationSettings.Start, settings.Span, settings.SalesPerDay).Count;
            await using var log = Outpost.Core.Log.Sqlite.SqliteEventLog.Open(new LogOptions
            {
                Path = StandInStore.LogPath(standIns.Directory, spec.Id),
                NodeId = spec.Id,
                Topics = Outpost.Retail.RetailTopics.Catalog,
            });
            var sales = new HashSet<string>(StringComparer.Ordinal);
            var twice = 0;
            await foreach (var e in log.EnumerateAsync(Sales, pageSize: 5000, cancellationToken: cancellationToken))
            {
                if (e.Type == CheckoutEvents.SaleCompleted && !sales.Add(e.Key))
                {
                    twice++;
                }
            }

            result.Acknowledged += sales.Count;
            result.LostAtHq += sales.Count(s => !atHq.ContainsKey(s));
            result.DoubledAtStore += twice;
            if (await DivergenceAsync(snapshot, spec.Id, spec.Region, 0, log, cancellationToken) is { } divergence)
            {
                wrong[spec.Id] = [divergence];
            }
        }

        return result;
    }

    /// <summary>The stand-ins as the checker finds them.</summary>
    private sealed class StandInsChecked
    {
        public int Planned { get; set; }

        public int Acknowledged { get; set; }

        public int LostAtHq { get; set; }

        public int DoubledAtStore { get; set; }
    }

    /// <summary>The kiosks' orders as the checker finds them.</summary>
    private sealed class OrdersChecked
    {
        public int Acknowledged { get; set; }

        public int LostAtStore { get; set; }

        public int LostAtHq { get; set; }

        public int Doubled { get; set; }
    }

    private static async Task<StoredEvent?> FindSaleAsync(IEventLog log, Func<StoredEvent, bool> which, CancellationToken cancellationToken)
    {
        await foreach (var e in log.EnumerateAsync(Sales, pageSize: 5000, cancellationToken: cancellationToken))
        {
            if (e.Type == CheckoutEvents.SaleCompleted && which(e))
            {
                return e;
            }
        }

        return null;
    }
}
