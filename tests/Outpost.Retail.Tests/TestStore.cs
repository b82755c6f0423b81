using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

/// <summary>
/// A store for tests: a real SQLite log in a temp directory, the retail contexts over it, a simulated payment
/// terminal and a fake clock (Monday 23 November 2026, 10:00 in Paris). HQ's data arrives as events, exactly as
/// replication delivers it.
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    public static readonly StoreContext Context = new("s-042", "north", TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"), Currency.Eur);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-retail-store", Guid.NewGuid().ToString("N"));
    private readonly List<NewEvent> _pending = [];

    private TestStore(SqliteEventLog log, RetailContexts retail)
    {
        Log = log;
        Retail = retail;
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));

    public SimulatedPaymentTerminal Terminal { get; } = new();

    public SqliteEventLog Log { get; private set; }

    public RetailContexts Retail { get; private set; }

    public CheckoutService Checkout => Retail.Checkout;

    public string DatabasePath => Path.Combine(_directory, "store.db");

    public static async Task<TestStore> OpenAsync(RetailOptions? options = null)
    {
        var store = new TestStore(null!, null!);
        await store.ReopenAsync(options);
        return store;
    }

    /// <summary>Closes the log and opens it again, as a restarted store server would.</summary>
    public async Task ReopenAsync(RetailOptions? options = null)
    {
        if (Retail is not null)
        {
            await Retail.DisposeAsync();
        }

        if (Log is not null)
        {
            await Log.DisposeAsync();
        }

        Log = SqliteEventLog.Open(new LogOptions { Path = DatabasePath, NodeId = Context.StoreId, Time = Time, Topics = RetailTopics.Catalog });
        // Consumer retries wait on the clock; this clock is fake, so retry at once.
        var retail = (options ?? new RetailOptions()) with { Consumers = new Core.Consumers.ConsumerOptions { RetryDelay = TimeSpan.Zero, MaxAttempts = 2 } };
        Retail = await RetailContexts.OpenAsync(Log, Context, retail, Terminal, Time, TestContext.Current.CancellationToken);
    }

    public TestStore Product(string gtin, string name, decimal price, string category = "grocery", string taxClass = "standard", SaleUnit unit = SaleUnit.Each)
    {
        Add(CatalogEvents.ProductsTopic, CatalogEvents.ProductUpserted, gtin, Scope.All,
            NewEvent.Json(new ProductUpsertedV1(gtin, name, category, taxClass, unit, null, null), CatalogJsonContext.Default.ProductUpsertedV1));
        return Price(gtin, price, new DateTime(2026, 1, 1));
    }

    public TestStore MenuItem(string gtin, string name, decimal price, string category, params (string Ingredient, bool Required)[] recipe)
    {
        Product(gtin, name, price, category);
        return Add(CatalogEvents.MenuTopic, CatalogEvents.MenuItemUpserted, gtin, Scope.All,
            NewEvent.Json(new MenuItemUpsertedV1(gtin, name, category, "standard", [.. recipe.Select(r => new RecipeLine(r.Ingredient, r.Required))], null), CatalogJsonContext.Default.MenuItemUpsertedV1));
    }

    public TestStore Price(string gtin, decimal amount, DateTime fromLocal, Scope? scope = null) =>
        Add(PricingEvents.PricesTopic, PricingEvents.PriceSet, PricingEvents.PriceKey(scope ?? Scope.All, gtin, fromLocal), scope ?? Scope.All,
            NewEvent.Json(new PriceSetV1(gtin, amount, "EUR", fromLocal, null), PricingJsonContext.Default.PriceSetV1));

    public TestStore Campaign(string id, string gtin, decimal amount, DateTime fromLocal, DateTime toLocal, string by = "manager-7") =>
        Add(PricingEvents.CampaignsTopic, PricingEvents.StoreCampaignPriceSet, id, Scope.Store(Context.StoreId),
            NewEvent.Json(new StoreCampaignPriceSetV1(id, gtin, amount, "EUR", fromLocal, toLocal, by), PricingJsonContext.Default.StoreCampaignPriceSetV1));

    public TestStore Promotion(PromotionDefinitionV1 definition, Scope? scope = null) =>
        Add(PromotionEvents.PromotionsTopic, PromotionEvents.PromotionSet, definition.Id, scope ?? Scope.All,
            NewEvent.Json(definition, PromotionJsonContext.Default.PromotionDefinitionV1));

    public TestStore Member(string id, string card, long balance, string? app = null, params string[] segments) =>
        Add(LoyaltyEvents.MembersTopic, LoyaltyEvents.MemberUpserted, id, Scope.Region(Context.Region),
            NewEvent.Json(new MemberUpsertedV1(id, card, app, "Member " + id, segments, balance), LoyaltyJsonContext.Default.MemberUpsertedV1));

    public TestStore Allowance(long points) =>
        Add(LoyaltyEvents.AllowanceTopic, LoyaltyEvents.RedemptionAllowanceSet, "allowance", Scope.Store(Context.StoreId),
            NewEvent.Json(new RedemptionAllowanceSetV1("a-" + points.ToString(CultureInfo.InvariantCulture), points), LoyaltyJsonContext.Default.RedemptionAllowanceSetV1));

    /// <summary>Appends what was staged and brings every read model up to date.</summary>
    public async Task SyncAsync()
    {
        if (_pending.Count > 0)
        {
            await Log.AppendBatchAsync([.. _pending], cancellationToken: TestContext.Current.CancellationToken);
            _pending.Clear();
        }

        await Retail.CatchUpAsync(TestContext.Current.CancellationToken);
        Assert.Empty(await Log.GetDeadLettersAsync(cancellationToken: TestContext.Current.CancellationToken));
    }

    public async Task<List<StoredEvent>> EventsAsync(string topic, string? type = null)
    {
        var page = await Log.ReadAsync(0, ReadFilter.ForTopics(topic), 10_000, TestContext.Current.CancellationToken);
        return [.. page.Events.Where(e => type is null || e.Type == type)];
    }

    public async ValueTask DisposeAsync()
    {
        await Retail.DisposeAsync();
        await Log.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private TestStore Add(string topic, string type, string key, Scope scope, byte[] payload)
    {
        _pending.Add(new NewEvent { Topic = topic, Type = type, Key = key, Scope = scope, Payload = payload });
        return this;
    }
}
