using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Tests;

public sealed class PriceBookTests : IAsyncDisposable
{
    private static readonly Gtin Milk = Gtin.Parse("4006381333931");
    private static readonly StoreContext Store = new("s-042", "north", TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"), Currency.Eur);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-pricing-tests", Guid.NewGuid().ToString("N"));
    private readonly SqliteEventLog _log;

    public PriceBookTests()
    {
        _log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = Store.StoreId });
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTime Local(int day, int hour, int minute = 0) => new(2026, 11, day, hour, minute, 0, DateTimeKind.Unspecified);

    private Task<AppendResult> Price(string amount, Scope scope, DateTime from, DateTime? to = null, string gtin = "4006381333931") =>
        _log.AppendAsync(new NewEvent
        {
            Topic = PricingEvents.PricesTopic,
            Type = PricingEvents.PriceSet,
            Key = PricingEvents.PriceKey(scope, gtin, from),
            Scope = scope,
            Payload = NewEvent.Json(new PriceSetV1(gtin, decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), "EUR", from, to), PricingJsonContext.Default.PriceSetV1),
        }, Ct).AsTask();

    private Task<AppendResult> Campaign(string id, string amount, DateTime from, DateTime to, string by = "manager-7") =>
        _log.AppendAsync(new NewEvent
        {
            Topic = PricingEvents.CampaignsTopic,
            Type = PricingEvents.StoreCampaignPriceSet,
            Key = id,
            Scope = Scope.Store(Store.StoreId),
            Payload = NewEvent.Json(new StoreCampaignPriceSetV1(id, Milk.Value, decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), "EUR", from, to, by), PricingJsonContext.Default.StoreCampaignPriceSetV1),
        }, Ct).AsTask();

    private async Task<PriceBook> ProjectAsync()
    {
        await PriceBookProjection.CreateTablesAsync(_log, Ct);
        await new ConsumerRunner(_log, new PriceBookProjection(Store), new ConsumerOptions { RetryDelay = TimeSpan.Zero, MaxAttempts = 2 }).CatchUpAsync(Ct);
        return new PriceBook(_log, Store);
    }

    private static DateTimeOffset Utc(int day, int hour, int minute = 0, int second = 0) => new(2026, 11, day, hour, minute, second, TimeSpan.Zero);

    [Fact]
    public async Task The_most_specific_scope_wins_store_over_region_over_all()
    {
        await Price("1.19", Scope.All, Local(1, 0));
        await Price("1.09", Scope.Region("north"), Local(1, 0));
        var allAndRegion = await (await ProjectAsync()).PriceAtAsync(Milk, Utc(23, 12), Ct);
        await Price("0.99", Scope.Store("s-042"), Local(1, 0));

        var withStore = await (await ProjectAsync()).PriceAtAsync(Milk, Utc(23, 12), Ct);

        Assert.Equal(1.09m, allAndRegion!.Price.Amount);
        Assert.Equal((0.99m, PriceSource.Hq, "2"), (withStore!.Price.Amount, withStore.Source, withStore.Reference));
    }

    [Fact]
    public async Task Prices_for_other_stores_and_regions_are_ignored()
    {
        await Price("1.19", Scope.All, Local(1, 0));
        await Price("0.50", Scope.Region("south"), Local(1, 0));
        await Price("0.10", Scope.Store("s-999"), Local(1, 0));

        var price = await (await ProjectAsync()).PriceAtAsync(Milk, Utc(23, 12), Ct);

        Assert.Equal(1.19m, price!.Price.Amount);
    }

    [Fact]
    public async Task A_change_scheduled_for_06_00_takes_effect_at_06_00_store_local_time()
    {
        // Paris is UTC+1 in November: 06:00 local is 05:00 UTC.
        await Price("1.19", Scope.All, Local(1, 0));
        await Price("1.29", Scope.All, Local(24, 6));
        var book = await ProjectAsync();

        var before = await book.PriceAtAsync(Milk, Utc(24, 4, 59, 59), Ct);
        var at = await book.PriceAtAsync(Milk, Utc(24, 5, 0, 0), Ct);

        Assert.Equal((1.19m, 1.29m), (before!.Price.Amount, at!.Price.Amount));
    }

    [Fact]
    public async Task A_price_with_an_end_falls_back_to_the_open_ended_one_after_it()
    {
        await Price("1.19", Scope.All, Local(1, 0));
        await Price("0.89", Scope.All, Local(20, 0), to: Local(27, 0));
        var book = await ProjectAsync();

        Assert.Equal(0.89m, (await book.PriceAtAsync(Milk, Utc(23, 12), Ct))!.Price.Amount);
        Assert.Equal(1.19m, (await book.PriceAtAsync(Milk, Utc(27, 12), Ct))!.Price.Amount);
    }

    [Fact]
    public async Task A_store_campaign_wins_over_hq_inside_its_window_only_and_records_who_made_it()
    {
        await Price("0.99", Scope.Store("s-042"), Local(1, 0));
        await Campaign("weekend-milk", "0.79", Local(28, 8), Local(30, 0));
        var book = await ProjectAsync();

        var before = await book.PriceAtAsync(Milk, Utc(28, 6, 59), Ct);
        var during = await book.PriceAtAsync(Milk, Utc(28, 7, 0), Ct);
        var after = await book.PriceAtAsync(Milk, Utc(29, 23, 0), Ct);

        Assert.Equal((0.99m, PriceSource.Hq), (before!.Price.Amount, before.Source));
        Assert.Equal((0.79m, PriceSource.StoreCampaign, "weekend-milk"), (during!.Price.Amount, during.Source, during.Reference));
        Assert.Equal(0.99m, after!.Price.Amount);
        await using var connection = await _log.OpenReadConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT created_by FROM pricing_campaigns WHERE campaign_id = 'weekend-milk'";
        Assert.Equal("manager-7", await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task A_product_without_a_price_has_none_rather_than_zero()
    {
        await Price("1.19", Scope.All, Local(1, 0));

        Assert.Null(await (await ProjectAsync()).PriceAtAsync(Gtin.Parse("96385074"), Utc(23, 12), Ct));
    }

    [Fact]
    public async Task A_price_event_of_an_unknown_version_is_parked()
    {
        await _log.AppendAsync(new NewEvent { Topic = PricingEvents.PricesTopic, Type = PricingEvents.PriceSet, Version = 2, Key = "x", Payload = "{}"u8.ToArray() }, Ct);
        await Price("1.19", Scope.All, Local(1, 0));

        var price = await (await ProjectAsync()).PriceAtAsync(Milk, Utc(23, 12), Ct);

        Assert.Equal(1.19m, price!.Price.Amount);
        Assert.Equal("PriceSet.v2", Assert.Single(await _log.GetDeadLettersAsync("price-book", Ct)).Type);
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
