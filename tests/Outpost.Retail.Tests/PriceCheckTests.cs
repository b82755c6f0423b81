using FsCheck;
using FsCheck.Fluent;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

public sealed class PriceCheckTests : IAsyncDisposable
{
    private static readonly StoreContext Store = new("s-042", "north", TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"), Currency.Eur);
    private static readonly Gtin[] Products = [Gtin.Parse("96385074"), Gtin.Parse("4006381333931"), Gtin.Parse("036000291452"), Gtin.Parse("2304567000007")];
    private static readonly string[] Categories = ["snacks", "snacks", "dairy", "fruit"];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-pricecheck-tests", Guid.NewGuid().ToString("N"));
    private readonly SqliteEventLog _log;

    public PriceCheckTests()
    {
        _log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = Store.StoreId });
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<PriceCheck> StoreWithPricesAsync()
    {
        var events = new List<NewEvent>();
        for (var i = 0; i < Products.Length; i++)
        {
            var unit = i == 3 ? SaleUnit.Kilogram : SaleUnit.Each;
            events.Add(new NewEvent
            {
                Topic = CatalogEvents.ProductsTopic,
                Type = CatalogEvents.ProductUpserted,
                Key = Products[i].Value,
                Payload = NewEvent.Json(new ProductUpsertedV1(Products[i].Value, $"product {i}", Categories[i], "standard", unit, null, null), CatalogJsonContext.Default.ProductUpsertedV1),
            });

            // A base price for all, a cheaper one for the region from the 10th, and a store price from the 20th.
            foreach (var (scope, day, amount) in new[] { (Scope.All, 1, 2.00m + i), (Scope.Region("north"), 10, 1.80m + i), (Scope.Store("s-042"), 20, 1.60m + i) })
            {
                var from = new DateTime(2026, 11, day, 6, 0, 0);
                events.Add(new NewEvent
                {
                    Topic = PricingEvents.PricesTopic,
                    Type = PricingEvents.PriceSet,
                    Key = PricingEvents.PriceKey(scope, Products[i].Value, from),
                    Scope = scope,
                    Payload = NewEvent.Json(new PriceSetV1(Products[i].Value, amount, "EUR", from, null), PricingJsonContext.Default.PriceSetV1),
                });
            }
        }

        await _log.AppendBatchAsync(events, cancellationToken: Ct);
        await CatalogProjection.CreateTablesAsync(_log, Ct);
        await PriceBookProjection.CreateTablesAsync(_log, Ct);
        await new ConsumerRunner(_log, new CatalogProjection()).CatchUpAsync(Ct);
        await new ConsumerRunner(_log, new PriceBookProjection(Store)).CatchUpAsync(Ct);
        return new PriceCheck(new CatalogQueries(_log, VariableMeasureLayout.Defaults), new PriceBook(_log, Store), new PromotionEngine(), Store);
    }

    private static readonly Promotion[] Candidates =
    [
        new PercentOff("10-snacks", "10% off snacks", new HashSet<Gtin>(), new HashSet<string> { "snacks" }, Stacking.Stackable, 10m),
        new PercentOff("25-dairy", "25% off dairy", new HashSet<Gtin>(), new HashSet<string> { "dairy" }, Stacking.Exclusive, 25m),
        new AmountOff("30c-fruit", "0.30 off fruit", new HashSet<Gtin>(), new HashSet<string> { "fruit" }, Stacking.Stackable, new Money(0.30m, Currency.Eur)),
        new MultiBuy("3for2", "3 for 2", new HashSet<Gtin>(), new HashSet<string> { "snacks" }, Stacking.Exclusive, 3, 2),
        new BasketThreshold("spend2", "Spend 2, 0.10 off", new Money(2m, Currency.Eur), new Money(0.10m, Currency.Eur)),
    ];

    [Fact]
    public async Task Property_for_any_product_and_moment_the_label_price_is_the_single_item_basket_price()
    {
        var check = await StoreWithPricesAsync();
        var start = new DateTimeOffset(2026, 11, 1, 5, 0, 0, TimeSpan.Zero); // the first prices start at 06:00 Paris time
        var cases = Gen.Choose(0, Products.Length - 1).SelectMany(p => Gen.Choose(0, 30 * 24 * 60).SelectMany(m => Gen.Choose(0, 31).Select(mask => (p, m, mask))));
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (product, minutes, mask) = c;
            var instant = start.AddMinutes(minutes);
            var promotions = Candidates.Where((_, i) => (mask & (1 << i)) != 0).ToList();
            var label = check.LabelAsync(Products[product], promotions, instant, CancellationToken.None).GetAwaiter().GetResult();
            var basket = check.BasketAsync([(Products[product], 1m)], promotions, instant, CancellationToken.None).GetAwaiter().GetResult();
            return label is not null && label.Price == basket.Total;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public async Task A_label_shows_the_store_price_once_it_applies_and_the_promotion_on_it()
    {
        var check = await StoreWithPricesAsync();

        Promotion[] dairyOnly = [Candidates[1]];
        var before = await check.LabelAsync(Products[2], dairyOnly, new DateTimeOffset(2026, 11, 20, 4, 59, 0, TimeSpan.Zero), Ct);
        var after = await check.LabelAsync(Products[2], dairyOnly, new DateTimeOffset(2026, 11, 20, 5, 0, 0, TimeSpan.Zero), Ct);

        // Dairy: north price 3.80 until 06:00 local on the 20th, then the store's 3.60; 25% off dairy either way.
        Assert.Equal((3.80m, 2.85m), (before!.Shelf.Price.Amount, before.Price.Amount));
        Assert.Equal((3.60m, 2.70m), (after!.Shelf.Price.Amount, after.Price.Amount));
        Assert.Equal("25-dairy", Assert.Single(after.Promotions).PromotionId);
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
