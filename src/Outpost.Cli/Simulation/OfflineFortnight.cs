using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Central.MasterData;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;
using Outpost.Retail.Promotions;
using Outpost.Sync.Agent;
using Outpost.Sync.Faults;

namespace Outpost.Cli.Simulation;

/// <summary>
/// <c>outpost simulate --offline-days 14</c>: stores cut off from HQ and from the payment host for days (the offline
/// span leading point-of-sale systems promise). Before the cut HQ publishes prices and a promotion that take effect
/// on later days; then the stores sell on their daily curve, on a clock that runs a day in
/// <see cref="OfflineSettings.SecondsPerDay"/> real seconds (HQ's and the stores' one clock; timers run in real
/// time). The checker reads what HQ holds once the link is back: every sale there once, each line at the price that
/// was in effect on its store's local day, the promotion exactly on its days, no card payment approved offline above
/// the floor limit and each one forwarded; and it reports how the stores' data grew per offline day and how long
/// catching up took.
/// </summary>
internal sealed class OfflineFortnight(SimulationSettings settings, int days, double secondsPerDay, TextWriter output)
{
    /// <summary>The price HQ sets for the whole fleet from day 3 (06:00 store-local), and for region r0 from day 10.</summary>
    public const decimal FleetPriceFromDay3 = 3.33m;

    public const decimal RegionPriceFromDay10 = 4.44m;

    /// <summary>The promotion on <see cref="FleetSimulation.Products"/>[1] from day 5 to day 9 (store-local midnights).</summary>
    public const string PromotionId = "fortnight-25-off";

    private const int Regions = 2;

    /// <summary>
    /// A till here sells a day's share in seconds, far above the per-device limit that keeps a runaway device from
    /// starving the others (50 requests a second); the limit is raised for the run, as time is compressed.
    /// </summary>
    private static readonly Outpost.Store.Api.DeviceRateLimitOptions CompressedTills = new() { Burst = 100_000, PerSecond = 100_000 };

    public async Task<OfflineVerdict> RunAsync(CancellationToken cancellationToken)
    {
        var directory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "outpost-offline-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var clock = new FastClock(SimulationSettings.Start);
        var span = TimeSpan.FromDays(days);
        output.WriteLine($"simulate: {settings.Stores} stores x {settings.DevicesPerStore} tills cut off from HQ and the payment host for {days} days ({secondsPerDay:0.#} real seconds a day), {settings.SalesPerDay} sales a day each, seed {settings.Seed}");

        await using var hq = await SimulatedHq.StartAsync(settings, directory, cancellationToken, clock);
        var stores = new List<SimulatedStore>();
        var terminals = new Dictionary<string, SimulatedPaymentTerminal>(StringComparer.Ordinal);
        var passed = false;
        try
        {
            await PublishAsync(hq.AdminOf(0), cancellationToken);
            for (var i = 0; i < settings.Stores; i++)
            {
                var id = SimulatedStore.StoreId(i);
                var region = "r" + (i % Regions).ToString(CultureInfo.InvariantCulture);
                terminals[id] = new SimulatedPaymentTerminal();
                var secret = await hq.RegisterAsync(id, region, cancellationToken);
                stores.Add(await SimulatedStore.StartAsync(i, region, Zone(i), secret, hq.Address(0), directory, settings.Seed, settings.DevicesPerStore, asProcess: false,
                    TimeSpan.Zero, cancellationToken, clock, terminals[id], CompressedTills));
            }

            // Every store holds today's prices and the changes to come before its link goes.
            await FleetSimulation.UntilAsync(async () =>
            {
                foreach (var store in stores)
                {
                    var log = await store.LogAsync();
                    if (await log.CountAsync(0, ReadFilter.ForTopics(PromotionEvents.PromotionsTopic), cancellationToken) < 1
                        || await log.CountAsync(0, ReadFilter.ForTopics("prices"), cancellationToken) < FleetSimulation.Products.Count + 4 + (store.Region == "r0" ? 1 : 0))
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromMinutes(2), "every store held HQ's prices and the changes to come", cancellationToken);

            // The cut: no HQ, no payment host, for the whole span; the clock runs a day in a few seconds.
            foreach (var store in stores)
            {
                store.Link.Mode = ProxyMode.Reset;
                terminals[store.Id].HostReachable = false;
            }

            var cutAt = clock.GetUtcNow();
            var before = stores.ToDictionary(s => s.Id, s => DataBytes(s), StringComparer.Ordinal);
            clock.Rate = 86_400 / secondsPerDay;
            output.WriteLine($"  {stores.Count} stores cut off at {cutAt:yyyy-MM-dd HH:mm} UTC with HQ's prices and the changes to come");

            var sold = new ConcurrentQueue<(string Store, string SaleId, DateTimeOffset Opened)>();
            var tills = new TillTally();
            var perDay = new List<(int Day, long Bytes)>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sampling = Task.Run(async () =>
            {
                for (var day = 1; day <= days; day++)
                {
                    await clock.UntilAsync(cutAt + TimeSpan.FromDays(day), stop.Token);
                    perDay.Add((day, stores.Sum(DataBytes)));
                }
            }, stop.Token);
            var real = Stopwatch.StartNew();
            await Task.WhenAll(stores.Select(store => SellAsync(store, clock, cutAt, span, sold, tills, cancellationToken)));
            await clock.UntilAsync(cutAt + span, cancellationToken);
            await sampling;
            var offlineReal = real.Elapsed;
            var after = stores.ToDictionary(s => s.Id, s => DataBytes(s), StringComparer.Ordinal);
            var budgets = await BudgetsAsync(stores, cancellationToken);
            output.WriteLine($"  {days} days offline in {offlineReal.TotalSeconds:F0} s real: {sold.Count:N0} sales, {tills.CardOffline:N0} card payments approved offline, {tills.CardRefused:N0} refused above the floor limit (paid cash instead)");

            // Nothing reached HQ while the stores were cut off (else the catch-up below would measure nothing).
            var atHqBeforeReturn = await hq.Log.CountAsync(0, ReadFilter.ForTopics(CheckoutEvents.SalesTopic), cancellationToken);

            // The link and the payment host come back; the clock runs at real pace again. Each store catches up by itself.
            clock.Rate = 1;
            var catchUp = Stopwatch.StartNew();
            foreach (var store in stores)
            {
                terminals[store.Id].HostReachable = true;
                store.Link.Mode = ProxyMode.Pass;
            }

            var caughtUp = new ConcurrentDictionary<string, double>(StringComparer.Ordinal);
            await Task.WhenAll(stores.Select(async store =>
            {
                var mine = sold.Count(s => s.Store == store.Id);
                var bound = Stopwatch.StartNew();
                while (bound.Elapsed < TimeSpan.FromMinutes(5)
                    && (await store.StatusAsync(cancellationToken) is not { State: ConnectivityState.Online, UpBacklog: 0 }
                        || await hq.Log.CountAsync(0, new ReadFilter { Topics = [CheckoutEvents.SalesTopic], Scopes = [Outpost.Core.Events.Scope.Store(store.Id)] }, cancellationToken) < mine))
                {
                    await Task.Delay(50, cancellationToken);
                }

                caughtUp[store.Id] = catchUp.Elapsed.TotalSeconds;
            }));

            // Offline card approvals go to the payment host once it answers (the store forwards them every 30 s).
            var forwardedBy = Stopwatch.StartNew();
            while (terminals.Values.Sum(t => t.Forwarded.Count) < tills.CardOffline && forwardedBy.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(250, cancellationToken);
            }

            var verdict = await CheckAsync(hq.Log, stores, [.. sold], cancellationToken) with
            {
                Seed = settings.Seed,
                Command = Command,
                Stores = stores.Count,
                Days = days,
                SalesPerDay = settings.SalesPerDay,
                CardOffline = tills.CardOffline,
                CardRefusedAboveFloor = tills.CardRefused,
                CardForwarded = terminals.Values.Sum(t => t.Forwarded.Count),
                CardForwardedSeconds = forwardedBy.Elapsed.TotalSeconds,
                SalesAtHqBeforeReturn = atHqBeforeReturn,
                FailedAtTill = tills.Failed,
                OfflineRealSeconds = offlineReal.TotalSeconds,
                DataBytesPerStoreDay = (after.Values.Sum() - before.Values.Sum()) / (double)(stores.Count * days),
                DataBytesByDay = [.. perDay.OrderBy(d => d.Day).Select(d => d.Bytes / stores.Count)],
                Budgets = budgets,
                CatchUpSeconds = [.. caughtUp.Values.Order()],
                CatchUpEventsPerSecond = caughtUp.IsEmpty ? 0 : await hq.Log.CountAsync(0, ReadFilter.ForTopics(CheckoutEvents.SalesTopic, CheckoutEvents.PaymentsTopic, CheckoutEvents.ReceiptsTopic), cancellationToken) / Math.Max(0.001, caughtUp.Values.Max()),
            };
            passed = verdict.Passed;
            return verdict;
        }
        finally
        {
            await FleetSimulation.TearDownAsync(stores, hq, settings, directory, passed, output);
        }
    }

    public string Command => string.Create(CultureInfo.InvariantCulture,
        $"outpost simulate --offline-days {days} --seconds-per-offline-day {secondsPerDay} --stores {settings.Stores} --devices-per-store {settings.DevicesPerStore} --sales-per-day {settings.SalesPerDay} --seed {settings.Seed}");

    /// <summary>
    /// Day <paramref name="day"/> after the cut's date, at <paramref name="hour"/>: a store-local wall time, as HQ dates
    /// prices and promotions; each store applies it on its own clock, in its own zone.
    /// </summary>
    public static DateTime Day(int day, int hour = 0) => SimulationSettings.Start.UtcDateTime.Date.AddDays(day).AddHours(hour);

    private static string Zone(int store) => DailyCurve.ZoneOf(store);

    /// <summary>Today's catalog and prices (the fleet run's); then, effective later, a fleet price from day 3, a promotion from day 5 to 9, a region's price from day 10.</summary>
    private static async Task PublishAsync(HttpClient admin, CancellationToken cancellationToken)
    {
        await FleetSimulation.PublishCatalogAsync(admin, [], cancellationToken);

        // Effective-dated, as HQ publishes a week's changes ahead.
        await FleetSimulation.OkAsync(admin.PostAsJsonAsync("/admin/prices", new PriceBody(FleetSimulation.Changed.Fleet, FleetPriceFromDay3, "EUR", Day(3, 6), null, "*"), cancellationToken), cancellationToken);
        await FleetSimulation.OkAsync(admin.PostAsJsonAsync("/admin/prices", new PriceBody(FleetSimulation.Changed.Region, RegionPriceFromDay10, "EUR", Day(10, 6), null, "region:r0"), cancellationToken), cancellationToken);
        var promotion = new PromotionDefinitionV1(PromotionId, "25% off for days 5 to 8", "percentOff", [FleetSimulation.Products[1]], null, From: Day(5), To: Day(9), Percent: 25);
        await FleetSimulation.OkAsync(admin.PostAsJsonAsync("/admin/promotions", new PromotionBody("*", "EUR", promotion), cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The store's tills sell on its daily curve over the span: 1 to 3 lines, paid by card six times in ten (refused
    /// offline above the floor limit: then cash, as a cashier would ask), else cash; completed with an idempotency key.
    /// </summary>
    private async Task SellAsync(SimulatedStore store, FastClock clock, DateTimeOffset cutAt, TimeSpan span, ConcurrentQueue<(string Store, string SaleId, DateTimeOffset Opened)> sold, TillTally tally,
        CancellationToken cancellationToken)
    {
        var times = DailyCurve.SaleTimes(settings.Seed, store.Index, store.Zone, cutAt, span, settings.SalesPerDay);
        string[] products = [.. FleetSimulation.Products, FleetSimulation.Changed.Fleet, FleetSimulation.Changed.Region];
        await Task.WhenAll(store.Tills.Select((till, t) => Task.Run(async () =>
        {
            var random = new Random(StableSeed.Of(settings.Seed, store.Index, t, 0xf0f));
            for (var i = t; i < times.Count; i += store.Tills.Count)
            {
                await clock.UntilAsync(cutAt + times[i], cancellationToken);
                var lines = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => (Gtin: products[random.Next(products.Length)], Quantity: 1 + random.Next(random.Next(4) == 0 ? 9 : 2))).ToList();
                var card = random.Next(10) < 6;
                var opened = clock.GetUtcNow();
                if (await SaleAsync(till, lines, card, $"{store.Id}-{i}", tally, cancellationToken) is { } saleId)
                {
                    sold.Enqueue((store.Id, saleId, opened));
                }
                else
                {
                    Interlocked.Increment(ref tally.Failed);
                }
            }
        }, cancellationToken)));
    }

    private static async Task<string?> SaleAsync(HttpClient till, List<(string Gtin, int Quantity)> lines, bool card, string key, TillTally tally, CancellationToken cancellationToken)
    {
        var basket = await PostAsync(till, "/api/baskets", new { }, cancellationToken);
        var id = basket?.GetProperty("id").GetString();
        JsonElement? state = basket;
        foreach (var (gtin, quantity) in lines)
        {
            state = id is null ? null : await PostAsync(till, $"/api/baskets/{id}/lines", new { code = gtin, quantity }, cancellationToken);
        }

        if (id is null || state is null)
        {
            return null;
        }

        var due = state.Value.GetProperty("due").GetDecimal();
        if (card)
        {
            using var response = await till.PostAsJsonAsync($"/api/baskets/{id}/payments", new { method = "card" }, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref tally.CardOffline);
                due = 0;
            }
            else
            {
                Interlocked.Increment(ref tally.CardRefused); // above the floor limit with the host unreachable: cash instead
            }
        }

        if (due > 0 && await PostAsync(till, $"/api/baskets/{id}/payments", new { method = "cash", amount = Math.Ceiling(due) }, cancellationToken) is null)
        {
            return null;
        }

        var done = await PostAsync(till, $"/api/baskets/{id}/complete", new { idempotencyKey = key }, cancellationToken);
        return done?.GetProperty("sale").GetProperty("saleId").GetString();
    }

    private static async Task<JsonElement?> PostAsync(HttpClient till, string path, object body, CancellationToken cancellationToken)
    {
        using var response = await till.PostAsJsonAsync(path, body, cancellationToken);
        if (!response.IsSuccessStatusCode && Environment.GetEnvironmentVariable("OUTPOST_SIM_DEBUG") is not null)
        {
            Console.Error.WriteLine($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone() : null;
    }

    /// <summary>Sales at HQ against what the tills were told, and each sale's lines against the prices and promotion in effect on its local day.</summary>
    private static async Task<OfflineVerdict> CheckAsync(IEventLog hqLog, IReadOnlyList<SimulatedStore> stores, IReadOnlyList<(string Store, string SaleId, DateTimeOffset Opened)> sold, CancellationToken cancellationToken)
    {
        var regions = stores.ToDictionary(s => s.Id, s => s.Region, StringComparer.Ordinal);
        var openedAt = sold.ToDictionary(s => s.SaleId, s => s.Opened, StringComparer.Ordinal);
        var floorLimit = new CheckoutOptions().OfflineFloorLimit; // the stores run with the default
        var zones = stores.ToDictionary(s => s.Id, s => s.Zone, StringComparer.Ordinal);
        var atHq = new Dictionary<string, int>(StringComparer.Ordinal);
        var wrongPrices = new List<string>();
        var wrongPromotions = new List<string>();
        var overFloor = 0;
        await foreach (var e in hqLog.EnumerateAsync(ReadFilter.ForTopics(CheckoutEvents.SalesTopic), pageSize: 5000, cancellationToken: cancellationToken))
        {
            if (e.Type != CheckoutEvents.SaleCompleted)
            {
                continue;
            }

            atHq[e.Key] = atHq.GetValueOrDefault(e.Key) + 1;
            var sale = CheckoutEvents.ReadSaleCompleted(e);
            var zone = zones[sale.StoreId];

            // A sale is priced between its basket's opening and its completion (a line at its scan, the basket again
            // when it is tendered); with a day passing in seconds, that is minutes of store time, and a change that
            // takes effect in between may rightly show either way. So a line is right at either moment's price.
            var opened = openedAt.TryGetValue(sale.SaleId, out var o) ? TimeZoneInfo.ConvertTime(o, TimeZoneInfo.FindSystemTimeZoneById(zone)).DateTime : sale.LocalTime;
            foreach (var line in sale.Lines)
            {
                var (first, last) = (ExpectedPrice(line.Gtin, regions[sale.StoreId], opened), ExpectedPrice(line.Gtin, regions[sale.StoreId], sale.LocalTime));
                if (line.UnitPrice != first && line.UnitPrice != last && wrongPrices.Count < 20)
                {
                    wrongPrices.Add($"{sale.StoreId} {opened:yyyy-MM-dd HH:mm}–{sale.LocalTime:HH:mm}: {line.Gtin} at {line.UnitPrice}, in effect {first}{(first == last ? "" : $" then {last}")}");
                }
            }

            static bool PromotionDays(DateTime local) => local >= Day(5) && local < Day(9);
            var eligible = sale.Lines.Any(l => Same(l.Gtin, FleetSimulation.Products[1]));
            var applied = sale.Promotions.Any(p => p.Id == PromotionId);
            if (applied != (eligible && PromotionDays(sale.LocalTime)) && applied != (eligible && PromotionDays(opened)) && wrongPromotions.Count < 20)
            {
                wrongPromotions.Add($"{sale.StoreId} {sale.LocalTime:yyyy-MM-dd HH:mm}: the promotion {(applied ? "applied outside its days" : "was missing")}");
            }

            overFloor += sale.Tenders.Count(t => t.Kind == "card" && (!t.Offline || t.Amount > floorLimit));
        }

        return new OfflineVerdict
        {
            Acknowledged = sold.Count,
            StoredAtHq = atHq.Values.Sum(),
            // At HQ: a store deletes its sales once HQ holds them and they are a few days old, as retention does after
            // a fortnight's catch-up, so HQ is where every sale must be.
            Lost = sold.Count(s => !atHq.ContainsKey(s.SaleId)),
            Doubled = atHq.Values.Sum(n => n - 1),
            WrongPrices = wrongPrices,
            WrongPromotions = wrongPromotions,
            CardOverFloorOrOnline = overFloor,
        };
    }

    /// <summary>The shelf price in effect for a product at a store-local moment, from what HQ published before the cut.</summary>
    public static decimal ExpectedPrice(string gtin, string region, DateTime local)
    {
        if (Same(gtin, FleetSimulation.Changed.Fleet) && local >= Day(3, 6))
        {
            return FleetPriceFromDay3;
        }

        if (Same(gtin, FleetSimulation.Changed.Region) && region == "r0" && local >= Day(10, 6))
        {
            return RegionPriceFromDay10;
        }

        var i = FleetSimulation.Priced.ToList().FindIndex(g => Same(g, gtin));
        return i >= 0 ? FleetSimulation.ShelfPrice(i) : throw new ArgumentException($"{gtin} is not a product of the simulation.", nameof(gtin));
    }

    /// <summary>Whether two codes are one GTIN (a sale stores it as GTIN-14, with its leading zero).</summary>
    private static bool Same(string a, string b) =>
        Outpost.Retail.Catalog.Gtin.TryParse(a, out var x, out _) && Outpost.Retail.Catalog.Gtin.TryParse(b, out var y, out _) && x.Value == y.Value;

    /// <summary>The store's files: its log with its write-ahead log, and its baskets' file.</summary>
    private static long DataBytes(SimulatedStore store) =>
        store.DataDirectory is { } data && Directory.Exists(data) ? new DirectoryInfo(data).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    /// <summary>Each budgeted topic's bytes at the fullest store against its byte budget.</summary>
    private static async Task<IReadOnlyList<string>> BudgetsAsync(IReadOnlyList<SimulatedStore> stores, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        foreach (var policy in Outpost.Retail.RetailTopics.Catalog.Declared.Where(p => p.Retention.MaxBytes is not null))
        {
            long fullest = 0;
            foreach (var store in stores)
            {
                var stats = await (await store.LogAsync()).GetStatsAsync(cancellationToken);
                fullest = Math.Max(fullest, stats.Topics.FirstOrDefault(t => t.Topic == policy.Topic)?.PayloadBytes ?? 0);
            }

            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{policy.Topic}: {fullest / 1024.0:N0} KiB of {policy.Retention.MaxBytes / 1024.0 / 1024:N0} MiB{(fullest > policy.Retention.MaxBytes ? " OVER" : "")}"));
        }

        return lines;
    }

    /// <summary>What the tills saw.</summary>
    private sealed class TillTally
    {
        public int CardOffline;
        public int CardRefused;
        public int Failed;
    }
}
