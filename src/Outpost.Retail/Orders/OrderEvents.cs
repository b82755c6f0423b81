using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Orders;

/// <summary>Topics and event types of the orders context (kiosk and mobile orders); written by the store, sent up first.</summary>
public static class OrderEvents
{
    /// <summary>Orders and their status changes.</summary>
    public const string OrdersTopic = "orders";

    /// <summary>An order was placed at a kiosk, a till or by a mobile app.</summary>
    public const string OrderPlaced = "OrderPlaced";

    /// <summary>An order moved on: preparing, ready, collected or cancelled.</summary>
    public const string OrderStatusChanged = "OrderStatusChanged";
}

/// <summary>Where an order is.</summary>
public static class OrderStatus
{
    /// <summary>Placed, waiting for the kitchen.</summary>
    public const string Placed = "placed";

    /// <summary>The kitchen is making it.</summary>
    public const string Preparing = "preparing";

    /// <summary>Ready for collection.</summary>
    public const string Ready = "ready";

    /// <summary>Handed over.</summary>
    public const string Collected = "collected";

    /// <summary>Cancelled before it was ready.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Whether an order may move from one status to another.</summary>
    public static bool CanMove(string from, string to) => (from, to) switch
    {
        (Placed, Preparing or Cancelled) => true,
        (Preparing, Ready or Cancelled) => true,
        (Ready, Collected) => true,
        _ => false,
    };
}

/// <summary>Version 1 of <c>OrderPlaced</c>.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Number">The number called out and shown on the collection screen.</param>
/// <param name="Source"><c>kiosk</c>, <c>mobile</c> or <c>till</c>.</param>
/// <param name="DeviceId">The device that placed it.</param>
/// <param name="CustomerName">A name to call, if given.</param>
/// <param name="Lines">What was ordered.</param>
/// <param name="Total">Its price, through the one pricing engine.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="PlacedAt">When (UTC).</param>
public sealed record OrderPlacedV1(string OrderId, int Number, string Source, string DeviceId, string? CustomerName, IReadOnlyList<OrderLineV1> Lines, decimal Total,
    string Currency, DateTimeOffset PlacedAt);

/// <summary>One ordered menu item.</summary>
/// <param name="Code">The menu item (its GTIN).</param>
/// <param name="Name">Its name.</param>
/// <param name="Quantity">How many.</param>
/// <param name="Without">Optional ingredients left out (asked for, or out of stock).</param>
/// <param name="Amount">The line's price after promotions.</param>
public sealed record OrderLineV1(string Code, string Name, int Quantity, IReadOnlyList<string> Without, decimal Amount);

/// <summary>Version 1 of <c>OrderStatusChanged</c>.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Status">The new status.</param>
/// <param name="By">The device or staff member.</param>
/// <param name="At">When (UTC).</param>
public sealed record OrderStatusChangedV1(string OrderId, string Status, string By, DateTimeOffset At);

/// <summary>An order as screens show it.</summary>
/// <param name="Order">The order as placed.</param>
/// <param name="Status">Its status now.</param>
/// <param name="Seq">The log sequence of its last change.</param>
public sealed record OrderView(OrderPlacedV1 Order, string Status, long Seq);

/// <summary>Source-generated JSON for the order events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(OrderPlacedV1))]
[JsonSerializable(typeof(OrderStatusChangedV1))]
[JsonSerializable(typeof(OrderView))]
public sealed partial class OrderJsonContext : JsonSerializerContext;
