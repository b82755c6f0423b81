using Outpost.Retail.Checkout;
using Outpost.Retail.Inventory;
using Outpost.Retail.Orders;

namespace Outpost.Retail.Tests;

public sealed class OrdersTests : IAsyncLifetime
{
    private const string Burger = "20000011";
    private const string Salad = "20000028";
    private const string Fries = "20000035";
    private TestStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private OrderService Orders => _store.Retail.Orders;

    public async ValueTask InitializeAsync()
    {
        _store = await TestStore.OpenAsync();
        _store.MenuItem(Burger, "Bacon Cheeseburger", 8.90m, "burgers", ("bun", true), ("beef", true), ("bacon", true), ("cheese", false))
            .MenuItem(Salad, "Chicken Salad", 7.50m, "salads", ("lettuce", true), ("chicken", true), ("bacon", false))
            .MenuItem(Fries, "Fries", 2.90m, "sides", ("potatoes", true));
        await _store.SyncAsync();
    }

    public async ValueTask DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task With_bacon_out_the_cheeseburger_is_hidden_and_the_salad_comes_without_bacon_until_it_is_back()
    {
        await _store.Retail.Inventory.MarkAsync(InventoryEvents.Ingredient, "Bacon", available: false, "handheld-1", Ct);
        var out_ = (await _store.Retail.Menu.MenuAsync(Ct)).ToDictionary(e => e.Name);
        await _store.Retail.Inventory.MarkAsync(InventoryEvents.Ingredient, "bacon", available: true, "handheld-1", Ct);
        var back = (await _store.Retail.Menu.MenuAsync(Ct)).ToDictionary(e => e.Name);

        Assert.False(out_["Bacon Cheeseburger"].Available);
        Assert.True(out_["Chicken Salad"].Available);
        Assert.Equal(["bacon"], out_["Chicken Salad"].Without);
        Assert.True(out_["Fries"].Available);
        Assert.True(back["Bacon Cheeseburger"].Available);
        Assert.Empty(back["Chicken Salad"].Without);
    }

    [Fact]
    public async Task A_kiosk_order_is_on_the_kitchen_queue_at_once_and_moves_to_collected()
    {
        var placed = await Orders.PlaceAsync("kiosk", "kiosk-1", "Sam", [new(Burger, 2, ["cheese"]), new(Fries, 1)], null, Ct);
        var queue = await Orders.ListAsync([OrderStatus.Placed], Ct);
        await Orders.MoveAsync(placed.Order.OrderId, OrderStatus.Preparing, "kitchen-1", Ct);
        var ready = await Orders.MoveAsync(placed.Order.OrderId, OrderStatus.Ready, "kitchen-1", Ct);
        var collection = await Orders.ListAsync([OrderStatus.Ready], Ct);
        var wrong = await Assert.ThrowsAsync<RetailException>(() => Orders.MoveAsync(placed.Order.OrderId, OrderStatus.Preparing, "kitchen-1", Ct));
        await Orders.MoveAsync(placed.Order.OrderId, OrderStatus.Collected, "till-1", Ct);

        Assert.Equal((1, 20.70m, "Sam"), (placed.Order.Number, placed.Order.Total, placed.Order.CustomerName));
        Assert.Equal(["cheese"], placed.Order.Lines[0].Without);
        Assert.Equal(placed.Order.OrderId, Assert.Single(queue).Order.OrderId);
        Assert.Equal(OrderStatus.Ready, Assert.Single(collection).Status);
        Assert.Equal(OrderStatus.Ready, ready.Status);
        Assert.Equal(RetailProblem.Conflict, wrong.Problem);
        Assert.Equal(OrderStatus.Collected, (await Orders.GetAsync(placed.Order.OrderId, Ct))!.Status);
        Assert.Equal(4, (await _store.EventsAsync(OrderEvents.OrdersTopic)).Count);
    }

    [Fact]
    public async Task Orders_cannot_name_unavailable_items_or_leave_out_required_ingredients_and_missing_optional_ones_are_stripped()
    {
        await _store.Retail.Inventory.MarkAsync(InventoryEvents.Ingredient, "bacon", available: false, "kitchen-1", Ct);

        var hidden = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new(Burger, 1)], null, Ct));
        var required = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new(Salad, 1, ["chicken"])], null, Ct));
        var unknown = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new("4006381333931", 1)], null, Ct));
        var tooMany = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new(Fries, 21)], null, Ct));
        var salad = await Orders.PlaceAsync("mobile", "app-gateway", null, [new(Salad, 1)], null, Ct);

        Assert.Equal([RetailProblem.Conflict, RetailProblem.Invalid, RetailProblem.NotFound, RetailProblem.Invalid], new[] { hidden, required, unknown, tooMany }.Select(e => e.Problem));
        Assert.Contains("not available right now", hidden.Message, StringComparison.Ordinal);
        Assert.Equal(["bacon"], salad.Order.Lines[0].Without);
        Assert.Single(await _store.EventsAsync(OrderEvents.OrdersTopic));
    }

    [Fact]
    public async Task A_counted_product_sold_down_to_zero_goes_out_of_stock_and_the_sale_is_marked_as_the_change()
    {
        await _store.Retail.Inventory.CountAsync(Fries, 2, "handheld-1", Ct);
        var basket = await _store.Checkout.OpenAsync("till-1", null, Ct);
        await _store.Checkout.AddAsync(basket.Id, Fries, 2, Ct);
        await _store.Checkout.PayCashAsync(basket.Id, 10m, Ct);
        await _store.Checkout.CompleteAsync(basket.Id, "k-fries", Ct);
        await _store.SyncAsync();

        var sale = Assert.Single(await _store.EventsAsync(CheckoutEvents.SalesTopic));
        Assert.Equal(0m, await _store.Retail.Inventory.LevelAsync(Fries, Ct));
        Assert.True(await _store.Retail.Inventory.ChangedAtAsync(sale.Seq, Ct));
        Assert.False((await _store.Retail.Menu.MenuAsync(Ct)).Single(e => e.Name == "Fries").Available);
        var refused = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new(Fries, 1)], null, Ct));
        Assert.Equal(RetailProblem.Conflict, refused.Problem);

        await _store.Retail.Inventory.CountAsync(Fries, 40, "handheld-1", Ct); // a delivery
        Assert.True((await _store.Retail.Menu.MenuAsync(Ct)).Single(e => e.Name == "Fries").Available);
    }

    [Fact]
    public async Task A_retried_order_with_its_key_is_the_same_order_even_after_a_restart_and_a_menu_change_and_a_key_reused_for_other_items_is_refused()
    {
        var placed = await Orders.PlaceAsync("kiosk", "kiosk-1", "Sam", [new(Burger, 1), new(Fries, 2)], "tap-1", Ct);
        var retried = await Orders.PlaceAsync("kiosk", "kiosk-1", "Sam", [new(Burger, 1), new(Fries, 2)], "tap-1", Ct);
        await _store.ReopenAsync(); // the store server restarted before the kiosk heard back
        await _store.Retail.Inventory.MarkAsync(InventoryEvents.Ingredient, "bacon", available: false, "kitchen-1", Ct);
        var afterRestart = await Orders.PlaceAsync("kiosk", "kiosk-1", "Sam", [new(Burger, 1), new(Fries, 2)], "tap-1", Ct);
        var otherItems = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new(Fries, 1)], "tap-1", Ct));
        var otherKiosk = await Orders.PlaceAsync("kiosk", "kiosk-2", null, [new(Fries, 1)], "tap-1", Ct);
        var emptyKey = await Assert.ThrowsAsync<RetailException>(() => Orders.PlaceAsync("kiosk", "kiosk-1", null, [new(Fries, 1)], " ", Ct));

        Assert.Equal((placed.Order.OrderId, placed.Order.Number, placed.Order.Total), (retried.Order.OrderId, retried.Order.Number, retried.Order.Total));
        Assert.Equal((placed.Order.OrderId, placed.Order.Number, placed.Order.Total), (afterRestart.Order.OrderId, afterRestart.Order.Number, afterRestart.Order.Total));
        Assert.Equal(RetailProblem.Conflict, otherItems.Problem);
        Assert.Contains($"already placed order {placed.Order.Number}", otherItems.Message, StringComparison.Ordinal);
        Assert.NotEqual(placed.Order.OrderId, otherKiosk.Order.OrderId);
        Assert.Equal(placed.Order.Number + 1, otherKiosk.Order.Number);
        Assert.Equal(RetailProblem.Invalid, emptyKey.Problem);
        Assert.Equal(2, (await _store.EventsAsync(OrderEvents.OrdersTopic, OrderEvents.OrderPlaced)).Count);
    }
}
