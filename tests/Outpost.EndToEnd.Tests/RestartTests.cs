using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;
using Outpost.Sync.Tests;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

public sealed class RestartTests(Browser browser) : IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_server_killed_mid_sale_comes_back_and_the_open_till_page_reconnects_resumes_and_records_the_sale_once()
    {
        var directory = Path.Combine(Path.GetTempPath(), "outpost-e2e", Guid.NewGuid().ToString("N"));
        await SeedAsync(directory);
        var url = $"http://127.0.0.1:{ChildProcess.FreePort()}";
        var server = await StartAsync(directory, url);
        try
        {
            using var admin = Client(url, Shop.AdminToken);
            using var kiosk = Client(url, await EnrolAsync(admin, "kiosk"));
            var (context, till) = await browser.DeviceAsync(new Uri(url + "/"), Shop.AdminToken, "till", "till.html");
            await Expect(till.Locator("body[data-live='on']")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
            for (var i = 0; i < 3; i++)
            {
                await till.Locator("#code").FillAsync(Shop.Cola);
                await till.Locator("#code").PressAsync("Enter");
                await Expect(till.Locator("#lines tr")).ToHaveCountAsync(i + 1, new() { Timeout = 10_000 });
            }

            await till.Locator("#cash").FillAsync("5");
            await till.Locator("#pay-cash").ClickAsync();
            await Expect(till.Locator("#due")).ToContainTextAsync("0.00");

            server.Kill(); // SIGKILL, mid-sale
            server.Dispose();
            await till.Locator("#complete").ClickAsync(); // the server is gone: the page says so in words
            await Expect(till.Locator("#error")).ToContainTextAsync("cannot be reached", new() { Timeout = 10_000 });
            await Expect(till.Locator("body[data-live='reconnecting']")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
            await Browser.ShotAsync(till, "6-till-server-down");

            server = await StartAsync(directory, url);
            var placed = await kiosk.PostAsJsonAsync("/api/orders", new { lines = new[] { new { code = Shop.Salad, quantity = 1 } } }, Ct); // while the page is still reconnecting
            placed.EnsureSuccessStatusCode();
            var orderId = JsonDocument.Parse(await placed.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("order").GetProperty("orderId").GetString();
            await Expect(till.Locator("body[data-live='on']")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
            await Expect(till.Locator($"[data-order='{orderId}']")).ToBeVisibleAsync(new() { Timeout = 15_000 });
            await Expect(till.Locator("#total")).ToContainTextAsync("3.00"); // the basket is still there

            await till.Locator("#complete").ClickAsync(); // the retry, with the key the page kept
            await Expect(till.Locator("#receipt")).ToBeVisibleAsync(new() { Timeout = 15_000 });
            await Browser.ShotAsync(till, "6-till-after-restart");
            await context.CloseAsync();
        }
        finally
        {
            server.Kill();
            server.Dispose();
        }

        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(directory, "store.db"), NodeId = Shop.StoreId });
        var sales = await log.ReadAsync(0, ReadFilter.ForTopics(CheckoutEvents.SalesTopic), 100, Ct);
        var sale = Assert.Single(sales.Events, e => e.Type == CheckoutEvents.SaleCompleted);
        Assert.Equal(3.00m, sale.Deserialize(CheckoutJsonContext.Default.SaleCompletedV1).Total);
    }

    private static async Task<ChildProcess> StartAsync(string directory, string url)
    {
        var server = ChildProcess.Start("store", "--id", Shop.StoreId, "--region", "north", "--time-zone", "Europe/Paris", "--data", directory, "--urls", url,
            "--admin-token", Shop.AdminToken);
        await server.WaitForLineAsync(l => l.StartsWith($"outpost store {Shop.StoreId} listening", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return server;
    }

    private static async Task SeedAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(directory, "store.db"), NodeId = Shop.StoreId, Topics = RetailTopics.Catalog });
        var from = new DateTime(2026, 1, 1);
        var events = new List<NewEvent>();
        foreach (var (gtin, name, price) in new[] { (Shop.Cola, "Cola 1.5L", 1.50m), (Shop.Salad, "Chicken Salad", 7.50m) })
        {
            events.Add(new NewEvent { Topic = CatalogEvents.ProductsTopic, Type = CatalogEvents.ProductUpserted, Key = gtin,
                Payload = NewEvent.Json(new ProductUpsertedV1(gtin, name, "food", "standard", SaleUnit.Each, null, null), CatalogJsonContext.Default.ProductUpsertedV1) });
            events.Add(new NewEvent { Topic = PricingEvents.PricesTopic, Type = PricingEvents.PriceSet, Key = PricingEvents.PriceKey(Scope.All, gtin, from),
                Payload = NewEvent.Json(new PriceSetV1(gtin, price, "EUR", from, null), PricingJsonContext.Default.PriceSetV1) });
        }

        events.Add(new NewEvent { Topic = CatalogEvents.MenuTopic, Type = CatalogEvents.MenuItemUpserted, Key = Shop.Salad,
            Payload = NewEvent.Json(new MenuItemUpsertedV1(Shop.Salad, "Chicken Salad", "salads", "standard", [new("lettuce", true)], null), CatalogJsonContext.Default.MenuItemUpsertedV1) });
        events.Add(new NewEvent { Topic = PromotionEvents.PromotionsTopic, Type = PromotionEvents.PromotionSet, Key = "p-cola",
            Payload = NewEvent.Json(new PromotionDefinitionV1("p-cola", "Cola 3 for 2", "multiBuy", [Shop.Cola], null, Buy: 3, Pay: 2), PromotionJsonContext.Default.PromotionDefinitionV1) });
        await log.AppendBatchAsync(events, cancellationToken: Ct);
    }

    private static HttpClient Client(string url, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<string> EnrolAsync(HttpClient admin, string role)
    {
        var response = await admin.PostAsJsonAsync("/api/devices", new { name = role, role }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("token").GetString()!;
    }
}
