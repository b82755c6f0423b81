using Outpost.Sync.Faults;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

public sealed class StoreFlowTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private static readonly LocatorAssertionsToBeVisibleOptions Soon = new() { Timeout = 15_000 };
    private Shop _shop = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _shop = await Shop.StartAsync();

    public async ValueTask DisposeAsync() => await _shop.DisposeAsync();

    [Fact]
    public async Task With_the_hq_link_cut_a_till_sells_three_under_3_for_2_and_the_sale_reaches_hq_once_when_the_link_returns()
    {
        _shop.Link.Mode = ProxyMode.Reset;
        var (context, till) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "till", "till.html");
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await till.Locator("#code").FillAsync(Shop.Cola);
                await till.Locator("#code").PressAsync("Enter");
                await Expect(till.Locator("#lines tr")).ToHaveCountAsync(i + 1, new() { Timeout = 10_000 });
            }

            await Expect(till.Locator(".promotion")).ToContainTextAsync("Cola 3 for 2");
            await Expect(till.Locator("#total")).ToContainTextAsync("3.00");
            await till.Locator("#cash").FillAsync("5");
            await till.Locator("#pay-cash").ClickAsync();
            await Expect(till.Locator("#due")).ToContainTextAsync("0.00");
            await till.Locator("#complete").ClickAsync();
            await Expect(till.Locator("#receipt")).ToBeVisibleAsync(Soon);
            var receipt = await till.Locator("#receipt").TextContentAsync();
            await Browser.ShotAsync(till, "1-till-offline-sale");

            Assert.Contains("Cola 3 for 2", receipt, StringComparison.Ordinal);
            Assert.Contains("-1.50", receipt, StringComparison.Ordinal);
            Assert.Contains("You saved", receipt, StringComparison.Ordinal);
            Assert.Equal(0, await SalesAtHqAsync());
        }
        finally
        {
            await context.CloseAsync();
        }

        _shop.Link.Mode = ProxyMode.Pass;
        Assert.True(await Shop.EventuallyAsync(async () => await SalesAtHqAsync() == 1, TimeSpan.FromSeconds(30)), "The sale did not reach HQ within 30 s of the link returning.");
        await Task.Delay(1500, Ct); // a retry, if any, would land now
        Assert.Equal(1, await SalesAtHqAsync());
    }

    [Fact]
    public async Task A_kiosk_order_appears_on_the_kitchen_display_without_a_reload()
    {
        var (kitchenContext, kitchen) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "kitchen", "kitchen.html");
        var (kioskContext, kiosk) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "kiosk", "kiosk.html");
        try
        {
            await Expect(kiosk.Locator("[data-item='Chicken Salad']")).ToBeVisibleAsync(Soon);
            await Expect(kitchen.Locator("body[data-live='on']")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
            await kiosk.Locator("[data-item='Chicken Salad'] button").ClickAsync();
            await kiosk.Locator("#name").FillAsync("Sam");
            await kiosk.Locator("#place").ClickAsync();
            await Expect(kiosk.Locator("#confirmation")).ToContainTextAsync("Order #1");

            var order = kitchen.Locator("[data-order]", new() { HasText = "Chicken Salad" });
            await Expect(order).ToBeVisibleAsync(Soon);
            await Expect(order).ToContainTextAsync("Sam");
            await Browser.ShotAsync(kiosk, "2-kiosk");
            await Browser.ShotAsync(kitchen, "2-kitchen-display");
        }
        finally
        {
            await kioskContext.CloseAsync();
            await kitchenContext.CloseAsync();
        }
    }

    [Fact]
    public async Task A_kiosk_order_whose_answer_is_lost_is_placed_once_when_the_customer_taps_again()
    {
        var (kioskContext, kiosk) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "kiosk", "kiosk.html");
        try
        {
            // The first tap reaches the store server, which places the order; its answer never reaches the kiosk.
            var lost = 0;
            await kiosk.RouteAsync("**/api/orders", async route =>
            {
                if (Interlocked.Exchange(ref lost, 1) == 0)
                {
                    await route.FetchAsync();
                    await route.AbortAsync("connectionreset");
                    return;
                }

                await route.ContinueAsync();
            });
            await Expect(kiosk.Locator("[data-item='Chicken Salad']")).ToBeVisibleAsync(Soon);
            await kiosk.Locator("[data-item='Chicken Salad'] button").ClickAsync();
            await kiosk.Locator("#name").FillAsync("Lee");
            await kiosk.Locator("#place").ClickAsync();
            await Expect(kiosk.Locator("#error")).ToBeVisibleAsync(Soon);
            await kiosk.Locator("#place").ClickAsync();
            await Expect(kiosk.Locator("#confirmation")).ToContainTextAsync("Order #1", new() { Timeout = 15_000 });

            using var kitchen = _shop.Client(await _shop.EnrolAsync("kitchen"));
            var queue = await kitchen.GetFromJsonAsync<JsonElement>("/api/orders?status=placed", Ct);
            Assert.Equal(1, queue.GetArrayLength());
            Assert.Equal("Lee", queue[0].GetProperty("order").GetProperty("customerName").GetString());
        }
        finally
        {
            await kioskContext.CloseAsync();
        }
    }

    [Fact]
    public async Task Marking_bacon_out_hides_the_bacon_cheeseburger_on_an_open_menu_board_and_strips_bacon_from_the_salad()
    {
        var (boardContext, board) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "signage", "menu.html");
        try
        {
            await Expect(board.Locator("[data-item='Bacon Cheeseburger']")).ToBeVisibleAsync(Soon);
            await Expect(board.Locator("body[data-live='on']")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
            await Browser.ShotAsync(board, "3-menu-board-before");

            using var handheld = _shop.Client(await _shop.EnrolAsync("handheld"));
            var marked = await handheld.PostAsJsonAsync("/api/stock/availability", new { kind = "ingredient", id = "bacon", available = false }, Ct);
            marked.EnsureSuccessStatusCode();

            await Expect(board.Locator("[data-item='Bacon Cheeseburger']")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
            await Expect(board.Locator("[data-item='Chicken Salad'] .without")).ToContainTextAsync("bacon", new() { Timeout = 15_000 });
            await Browser.ShotAsync(board, "3-menu-board-bacon-out");
        }
        finally
        {
            await boardContext.CloseAsync();
        }
    }

    private async Task<int> SalesAtHqAsync()
    {
        var page = await _shop.HqLog.ReadAsync(0, ReadFilter.ForTopics(CheckoutEvents.SalesTopic), 1000, Ct);
        return page.Events.Count(e => e.Type == CheckoutEvents.SaleCompleted && e.Origin.Node.Value == Shop.StoreId);
    }
}
