using Outpost.Sync.Faults;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Central;
using Outpost.Central.Admin;
using Outpost.Central.Ingest;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;
using Outpost.Retail.Inventory;
using Outpost.Retail.Pricing;
using Outpost.Sync.Hosting;

namespace Outpost.Sync.Tests;

/// <summary>HQ's read models from what stores send, on SQLite and on PostgreSQL.</summary>
public abstract class HqReadModelTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh HQ database: null for SQLite, or a PostgreSQL connection string.</summary>
    protected abstract Task<string?> HqDatabaseAsync();

    internal static NewEvent Sale(string storeId, int n, decimal unitPrice, decimal quantity = 1, string gtin = "5012345678900", decimal saving = 0m)
    {
        var amount = decimal.Round(unitPrice * quantity, 2);
        var sale = new SaleCompletedV1($"{storeId}-sale-{n}", $"b{n}", $"k{n}", storeId, "till-1", null, new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero),
            new DateTime(2026, 11, 23, 10, 0, 0), "EUR", [new SaleLineV1(1, gtin, "Milk 1 l", quantity, unitPrice, amount, amount - saving, "standard", "hq")], [], [],
            amount, saving, amount - saving, [], 0m, true, [new SaleTenderV1("cash", amount - saving, amount - saving)], 0m, null);
        return new NewEvent
        {
            Topic = CheckoutEvents.SalesTopic,
            Type = CheckoutEvents.SaleCompleted,
            Key = sale.SaleId,
            Scope = Scope.Store(storeId),
            Payload = NewEvent.Json(sale, CheckoutJsonContext.Default.SaleCompletedV1),
        };
    }

    internal static NewEvent Count(string storeId, string gtin, decimal quantity) => new()
    {
        Topic = InventoryEvents.StockTopic,
        Type = InventoryEvents.StockCounted,
        Key = gtin,
        Scope = Scope.Store(storeId),
        Payload = NewEvent.Json(new StockCountedV1(gtin, quantity, "staff-1"), InventoryJsonContext.Default.StockCountedV1),
    };

    internal static async Task<StoreDay?> DayAsync(HttpClient admin, string store)
    {
        var days = await admin.GetFromJsonAsync<List<StoreDay>>($"admin/sales?store={store}&from=2026-11-23&to=2026-11-23", Ct);
        return days!.SingleOrDefault();
    }

    [Fact]
    public async Task HQ_reads_the_previous_release_s_SaleCompleted_v1_and_this_release_s_v2_and_books_each_to_its_store_s_business_day()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        var store = await cluster.StartStoreAsync("s1", "north");

        // A store on the previous release sold at 10:00 (v1: HQ books it to the date of its store-local time); after its
        // upgrade it sold at 01:30 the next night, trading past midnight (v2: booked to the business day it names).
        var old = Sale("s1", 1, 2.00m);
        var late = System.Text.Json.JsonSerializer.Deserialize(old.Payload.Span, CheckoutJsonContext.Default.SaleCompletedV1)!.Upcast() with
        {
            SaleId = "s1-sale-2", IdempotencyKey = "k2", LocalTime = new DateTime(2026, 11, 24, 1, 30, 0), BusinessDay = new DateOnly(2026, 11, 23),
        };
        await store.Log.AppendAsync(old, Ct);
        await store.Log.AppendAsync(CheckoutEvents.SaleCompletedEvent(late, EventVersions.Current), Ct);

        Assert.True(await Cluster.EventuallyAsync(async () => (await DayAsync(cluster.Admin, "s1"))?.Sales == 2, Bound),
            $"HQ's sales by day did not book both sales to 2026-11-23; it holds {(await DayAsync(cluster.Admin, "s1"))?.Sales ?? 0}");
        var days = await cluster.Admin.GetFromJsonAsync<List<StoreDay>>("admin/sales?store=s1&from=2026-11-01&to=2026-11-30", Ct) ?? [];
        Assert.Equal(["2026-11-23"], days.Select(d => d.Day));
        Assert.Equal(4.00m, days[0].Total);
        var versions = (await Cluster.ReadAllAsync(cluster.HqLog, ReadFilter.ForTopics(CheckoutEvents.SalesTopic))).Select(e => e.Version);
        Assert.Equal([1, CheckoutEvents.SaleCompletedVersion], versions);
        Assert.Empty(await cluster.HqLog.GetDeadLettersAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Sales_reach_the_daily_totals_exactly_once_through_a_link_that_drops_mid_stream_and_replays()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        await using var proxy = new FaultProxy(cluster.HqAddress, seed: 7);
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address, tweak: o => o.MaxBatchEvents = 7);
        proxy.Mode = ProxyMode.DropMidStream;
        for (var n = 1; n <= 60; n++)
        {
            await store.Log.AppendAsync(Sale("s1", n, 1.25m, quantity: 2, saving: n % 3 == 0 ? 0.50m : 0m), Ct);
        }

        await Task.Delay(1500, Ct);
        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(async () => (await DayAsync(cluster.Admin, "s1"))?.Sales == 60, Bound), "the daily totals never counted 60 sales");

        // The same events again, as a store restored from a backup would send them: nothing changes.
        var sent = await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("sales"));
        foreach (var e in sent.Take(10))
        {
            await cluster.HqLog.AppendAsync(e.ToReplica(), Ct);
        }

        await Task.Delay(500, Ct);
        var day = await DayAsync(cluster.Admin, "s1");
        Assert.NotNull(day);
        Assert.Equal((60L, 150.00m, 10.00m, 140.00m, "EUR"), (day.Sales, day.Subtotal, day.Saving, day.Total, day.Currency));
    }

    [Fact]
    public async Task Stock_is_the_last_count_less_sales_and_other_stores_are_listed_nearest_first_with_the_age_of_their_figure()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        foreach (var (id, region, lat, lon) in new[] { ("paris-1", "north", 48.8566, 2.3522), ("lille-1", "north", 50.6292, 3.0573), ("rouen-1", "north", 49.4432, 1.0999), ("nice-1", "south", 43.7102, 7.2620) })
        {
            using var response = await cluster.Admin.PostAsJsonAsync("admin/stores", new RegisterStore(id, region, lat, lon), Ct);
            response.EnsureSuccessStatusCode();
        }

        // Stores' events as HQ stores them once replicated (each with its own origin).
        var log = cluster.HqLog;
        await log.AppendBatchAsync([
            Count("lille-1", "5012345678900", 10) with { Origin = Origin("lille-1", 1) },
            Sale("lille-1", 1, 1.25m, quantity: 3) with { Origin = Origin("lille-1", 2) },
            Count("rouen-1", "5012345678900", 4) with { Origin = Origin("rouen-1", 1) },
            Count("nice-1", "5012345678900", 50) with { Origin = Origin("nice-1", 1) },
            Count("paris-1", "5012345678900", 0) with { Origin = Origin("paris-1", 1) },
            Sale("paris-1", 1, 2.00m, quantity: 1, gtin: "5099999999999") with { Origin = Origin("paris-1", 2) },
        ], cancellationToken: Ct);

        List<StockElsewhere>? found = null;
        Assert.True(await Cluster.EventuallyAsync(async () =>
        {
            found = await cluster.Admin.GetFromJsonAsync<List<StockElsewhere>>("admin/stock/5012345678900?near=paris-1", Ct);
            return found!.Count == 3 && found.Any(s => s.StoreId == "lille-1" && s.Quantity == 7);
        }, Bound), "HQ's stock never showed lille-1 at 7");

        var listed = found!;
        Assert.Equal(["rouen-1", "lille-1", "nice-1"], listed.Select(s => s.StoreId));
        Assert.Equal([4m, 7m, 50m], listed.Select(s => s.Quantity));
        Assert.InRange(listed[0].DistanceKm!.Value, 100, 130); // Paris-Rouen is about 112 km as the crow flies
        Assert.Equal(HlcTimestamp.From(1_790_000_000_000 + 2, 0).PhysicalTime, listed[1].AsOf);
        var north = await cluster.Admin.GetFromJsonAsync<List<StockElsewhere>>("admin/stock/5012345678900?near=paris-1&region=north", Ct);
        Assert.Equal(["rouen-1", "lille-1"], north!.Select(s => s.StoreId));
        using var unknown = await cluster.Admin.GetAsync("admin/stock/5012345678900?near=nowhere", Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_store_campaign_is_listed_at_hq_with_its_window_and_author()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        var campaign = new StoreCampaignPriceSetV1("autumn-1", "5012345678900", 0.99m, "EUR", new DateTime(2026, 11, 24, 6, 0, 0), new DateTime(2026, 11, 30, 22, 0, 0), "manager-2");
        await cluster.HqLog.AppendAsync(new NewEvent
        {
            Topic = PricingEvents.CampaignsTopic,
            Type = PricingEvents.StoreCampaignPriceSet,
            Key = "autumn-1",
            Scope = Scope.Store("s1"),
            Payload = NewEvent.Json(campaign, PricingJsonContext.Default.StoreCampaignPriceSetV1),
            Origin = Origin("s1", 1),
        }, Ct);

        List<CampaignRecord>? list = null;
        Assert.True(await Cluster.EventuallyAsync(async () => (list = await cluster.Admin.GetFromJsonAsync<List<CampaignRecord>>("admin/campaigns?store=s1", Ct))!.Count == 1, Bound));
        Assert.Equal(new CampaignRecord("s1", "autumn-1", "price", "5012345678900", 0.99m, campaign.FromLocal, campaign.ToLocal, "manager-2"), list![0]);
    }

    [Fact]
    public async Task Bad_queries_get_a_clear_400_and_anonymous_ones_a_401()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        using var badDay = await cluster.Admin.GetAsync("admin/sales?from=23/11/2026", Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badDay.StatusCode);
        Assert.Contains("yyyy-MM-dd", await badDay.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var halfLocation = await cluster.Admin.PostAsJsonAsync("admin/stores", new RegisterStore("x1", "north", 48.0, null), Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, halfLocation.StatusCode);
        using var anonymous = new HttpClient { BaseAddress = cluster.HqAddress };
        using var refused = await anonymous.GetAsync("admin/sales", Ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task A_store_answers_offline_which_nearby_store_has_a_product_from_the_regional_summary_with_its_age()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), Outpost.Retail.RetailTopics.Catalog, o => o.StockSummaryInterval = TimeSpan.FromMilliseconds(200));
        string? secret = null;
        foreach (var (id, region, lat, lon) in new[] { ("paris-1", "north", 48.8566, 2.3522), ("lille-1", "north", 50.6292, 3.0573), ("rouen-1", "north", 49.4432, 1.0999), ("nice-1", "south", 43.7102, 7.2620) })
        {
            using var response = await cluster.Admin.PostAsJsonAsync("admin/stores", new RegisterStore(id, region, lat, lon), Ct);
            response.EnsureSuccessStatusCode();
            var issued = await response.Content.ReadFromJsonAsync<Central.Stores.IssuedCredential>(Ct);
            secret = id == "paris-1" ? issued!.Secret : secret;
        }

        await using var proxy = new FaultProxy(cluster.HqAddress);
        var paris = await cluster.StartStoreAsync("paris-1", "north", via: proxy.Address, secret: secret);
        var gtin = Outpost.Retail.Catalog.Gtin.Parse("4006381333931").Value;
        await cluster.HqLog.AppendBatchAsync([
            Count("lille-1", gtin, 10) with { Origin = Origin("lille-1", 1) },
            Count("rouen-1", gtin, 4) with { Origin = Origin("rouen-1", 1) },
            Count("nice-1", gtin, 50) with { Origin = Origin("nice-1", 1) },
        ], cancellationToken: Ct);

        using var backOffice = new HttpClient { BaseAddress = paris.App.Address() };
        backOffice.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", StoreNode.AdminToken);
        List<Outpost.Retail.Inventory.NearbyStock>? nearby = null;
        async Task<bool> ShowsAsync(decimal lille) =>
            (nearby = await backOffice.GetFromJsonAsync<List<Outpost.Retail.Inventory.NearbyStock>>($"api/stock/{gtin}/nearby", Ct))!.Any(s => s.StoreId == "lille-1" && s.Quantity == lille);
        Assert.True(await Cluster.EventuallyAsync(() => ShowsAsync(10), Bound), "the store never received its region's stock");
        Assert.Equal(["rouen-1", "lille-1"], nearby!.Select(s => s.StoreId)); // nearest first; nice-1 is in another region
        Assert.InRange(nearby![0].DistanceKm!.Value, 100, 130);

        // Offline, the store still answers, with the figure's age; HQ's newer figure arrives when the link returns.
        proxy.Mode = ProxyMode.Cut;
        await cluster.HqLog.AppendAsync(Sale("lille-1", 1, 1.00m, quantity: 3, gtin: gtin) with { Origin = Origin("lille-1", 2) }, Ct);
        await Task.Delay(1000, Ct);
        Assert.True(await ShowsAsync(10), "offline, the store should answer from its last summary");
        Assert.All(nearby!, s => Assert.True(s.PublishedAt <= DateTimeOffset.UtcNow && s.AsOf <= s.PublishedAt));
        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(() => ShowsAsync(7), Bound), "the newer figure never arrived");
    }

    internal static EventOrigin Origin(string store, long seq) => new(NodeId.Parse(store), seq, HlcTimestamp.From(1_790_000_000_000 + seq, 0));
}

public sealed class HqReadModelTestsOnSqlite : HqReadModelTests
{
    protected override Task<string?> HqDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class HqReadModelTestsOnPostgres(Outpost.Testing.PostgresServer server) : HqReadModelTests
{
    protected override async Task<string?> HqDatabaseAsync() => await server.CreateDatabaseAsync(TestContext.Current.CancellationToken);

    [Fact]
    public async Task Two_hq_nodes_run_each_read_model_once_and_the_other_takes_over_when_one_stops()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = await server.CreateDatabaseAsync(ct);
        var a = await StartNodeAsync(database);
        await using var b = await StartNodeAsync(database);
        var hostA = a.Services.GetRequiredService<ReadModelHost>();
        var hostB = b.Services.GetRequiredService<ReadModelHost>();
        var models = a.Services.GetRequiredService<HqReadModels>().Consumers.Select(c => c.Name).Order(StringComparer.Ordinal).ToList();
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(hostA.Running.Concat(hostB.Running).Order(StringComparer.Ordinal).SequenceEqual(models)), TimeSpan.FromSeconds(20)),
            $"each read model should run on exactly one node: A runs [{string.Join(", ", hostA.Running)}], B runs [{string.Join(", ", hostB.Running)}]");

        using var adminB = Admin(b);
        var logA = a.Services.GetRequiredService<IEventLog>();
        var logB = b.Services.GetRequiredService<IEventLog>();
        for (var n = 1; n <= 40; n++)
        {
            await (n % 2 == 0 ? logA : logB).AppendAsync(Sale("s1", n, 2.00m) with { Origin = Origin("s1", n) }, ct);
        }

        Assert.True(await Cluster.EventuallyAsync(async () => (await DayAsync(adminB, "s1"))?.Sales == 40, TimeSpan.FromSeconds(30)));

        // Node A stops; B takes over whatever A ran (within the lease's 10 s) and carries on from the checkpoints.
        await a.StopAsync(ct);
        await a.DisposeAsync();
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(hostB.Running.Order(StringComparer.Ordinal).SequenceEqual(models)), TimeSpan.FromSeconds(30)),
            "node B never took over every read model");
        for (var n = 41; n <= 60; n++)
        {
            await logB.AppendAsync(Sale("s1", n, 2.00m) with { Origin = Origin("s1", n) }, ct);
        }

        Assert.True(await Cluster.EventuallyAsync(async () => (await DayAsync(adminB, "s1"))?.Sales == 60, TimeSpan.FromSeconds(30)));
        await Task.Delay(500, ct);
        var day = await DayAsync(adminB, "s1");
        Assert.Equal((60L, 120.00m), (day!.Sales, day.Total));
    }

    private static HttpClient Admin(WebApplication node)
    {
        var admin = new HttpClient { BaseAddress = node.Address() };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Cluster.AdminToken);
        return admin;
    }

    private static async Task<WebApplication> StartNodeAsync(string database)
    {
        var node = CentralHost.Build(new CentralOptions
        {
            Postgres = database,
            DataDirectory = Path.Combine(Path.GetTempPath(), "outpost-hq-node-" + Guid.NewGuid().ToString("N")),
            Urls = "http://127.0.0.1:0",
            AdminToken = Cluster.AdminToken,
            Topics = Outpost.Retail.RetailTopics.Catalog,
        });
        await node.StartAsync(TestContext.Current.CancellationToken);
        return node;
    }
}
