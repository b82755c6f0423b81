using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Store;
using Outpost.Sync.Hosting;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

public sealed class CampaignTests(Browser browser) : IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_campaign_from_the_back_office_changes_the_label_page_and_the_till_price_at_its_start()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero)); // 11:00 in Paris
        var directory = Path.Combine(Path.GetTempPath(), "outpost-e2e", Guid.NewGuid().ToString("N"));
        var store = StoreHost.Build(new StoreOptions
        {
            StoreId = Shop.StoreId, Region = "north", TimeZone = "Europe/Paris", DataDirectory = directory, Urls = "http://127.0.0.1:0", AdminToken = Shop.AdminToken, Time = clock,
        });
        await store.StartAsync(Ct);
        try
        {
            var log = store.Services.GetRequiredService<IEventLog>();
            var from = new DateTime(2026, 1, 1);
            var seeded = await log.AppendBatchAsync(
            [
                new NewEvent { Topic = CatalogEvents.ProductsTopic, Type = CatalogEvents.ProductUpserted, Key = Shop.Cola,
                    Payload = NewEvent.Json(new ProductUpsertedV1(Shop.Cola, "Cola 1.5L", "drinks", "standard", SaleUnit.Each, null, null), CatalogJsonContext.Default.ProductUpsertedV1) },
                new NewEvent { Topic = PricingEvents.PricesTopic, Type = PricingEvents.PriceSet, Key = PricingEvents.PriceKey(Scope.All, Shop.Cola, from),
                    Payload = NewEvent.Json(new PriceSetV1(Shop.Cola, 1.50m, "EUR", from, null), PricingJsonContext.Default.PriceSetV1) },
            ], cancellationToken: Ct);
            await store.Services.GetRequiredService<StoreServices>().Retail.CatchUpToAsync(seeded[^1].Seq, Ct);

            var (officeContext, office) = await browser.DeviceAsync(store.Address(), Shop.AdminToken, "backoffice", "backoffice.html");
            var (labelsContext, labels) = await browser.DeviceAsync(store.Address(), Shop.AdminToken, "backoffice", "labels.html");
            var label = labels.Locator($"[data-gtin='{Shop.Cola}'] .price");
            await Expect(label).ToContainTextAsync("1.50", new() { Timeout = 15_000 });

            await office.Locator("#c-id").FillAsync("lunch-deal");
            await office.Locator("#c-gtin").FillAsync(Shop.Cola);
            await office.Locator("#c-amount").FillAsync("0.99");
            await office.Locator("#c-from").FillAsync("2026-11-23T12:00");
            await office.Locator("#c-to").FillAsync("2026-11-23T18:00");
            await office.Locator("#c-by").FillAsync("manager-7");
            await office.Locator("#campaign button").ClickAsync();
            await Expect(office.Locator("#c-id")).ToHaveValueAsync("", new() { Timeout = 10_000 });
            await Browser.ShotAsync(office, "4-back-office");
            await Task.Delay(500, Ct);
            await Expect(label).ToContainTextAsync("1.50");

            clock.Advance(TimeSpan.FromHours(1)); // 12:00 in Paris: the campaign starts
            await Expect(label).ToContainTextAsync("0.99", new() { Timeout = 15_000 });
            await Browser.ShotAsync(labels, "4-labels-at-campaign-start");

            var (tillContext, till) = await browser.DeviceAsync(store.Address(), Shop.AdminToken, "till", "till.html");
            await till.Locator("#code").FillAsync(Shop.Cola);
            await till.Locator("#code").PressAsync("Enter");
            await Expect(till.Locator("#total")).ToContainTextAsync("0.99", new() { Timeout = 10_000 });
            await Browser.ShotAsync(till, "4-till-campaign-price");
            foreach (var context in new[] { officeContext, labelsContext, tillContext })
            {
                await context.CloseAsync();
            }
        }
        finally
        {
            await store.StopAsync(CancellationToken.None);
            await store.DisposeAsync();
        }
    }

}
