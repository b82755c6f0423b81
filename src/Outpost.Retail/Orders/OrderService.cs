using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Orders;

/// <summary>A line of an order to place.</summary>
/// <param name="Code">The menu item.</param>
/// <param name="Quantity">How many (1 to 20).</param>
/// <param name="Without">Optional ingredients to leave out.</param>
public sealed record OrderRequestLine(string Code, int Quantity, IReadOnlyList<string>? Without = null);

/// <summary>
/// Kiosk, till and mobile orders: placed against the menu as it is now (items whose required ingredients are out
/// cannot be ordered; missing optional ones are left out and said so), priced through the one engine, then
/// moved through placed → preparing → ready → collected (or cancelled) by the kitchen and the till.
/// </summary>
public sealed class OrderService(IEventLog log, StoreContext store, MenuService menu, PriceCheck pricing, PromotionCatalog promotions, TimeProvider time,
    Func<string, long, CancellationToken, Task> projected) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateOnly Day, int Number) _last;

    /// <summary>
    /// Places an order; it is on the kitchen display and the till's queue once this returns. With an idempotency key
    /// (the same for every retry of one order from one device) a retry returns the order the first try placed, even
    /// after a restart and even if the menu changed since; without one, every call is a new order.
    /// </summary>
    public async Task<OrderView> PlaceAsync(string source, string deviceId, string? customerName, IReadOnlyList<OrderRequestLine> lines, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        if (source is not ("kiosk" or "mobile" or "till"))
        {
            throw new RetailException(RetailProblem.Invalid, $"'{source}' is not an order source: kiosk, mobile or till.");
        }

        if (lines.Count is 0 or > 50)
        {
            throw new RetailException(RetailProblem.Invalid, "An order has 1 to 50 lines.");
        }

        if (customerName is { Length: > 40 })
        {
            throw new RetailException(RetailProblem.Invalid, "A customer name is at most 40 characters.");
        }

        if (idempotencyKey is not null && (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > 100))
        {
            throw new RetailException(RetailProblem.Invalid, "An idempotency key is 1 to 100 characters, the same for every retry of one order.");
        }

        var keyedId = idempotencyKey is null ? null : KeyedOrderId(deviceId, idempotencyKey);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (keyedId is not null && await PlacedAsync(keyedId, cancellationToken) is { } earlier)
            {
                return SameOrder(earlier, lines, idempotencyKey!);
            }

            var now = time.GetUtcNow();
            var (ordered, priced) = await PriceAsync(lines, now, cancellationToken);
            var number = await NextNumberAsync(now, cancellationToken);
            var placed = new OrderPlacedV1(keyedId ?? Guid.CreateVersion7(now).ToString("N"), number, source, deviceId, string.IsNullOrWhiteSpace(customerName) ? null : customerName.Trim(),
                [.. ordered.Select((o, i) => new OrderLineV1(o.Entry.Code, o.Entry.Name, o.Request.Quantity, o.Without, Math.Round(priced.LineAmounts[i], store.Currency.Decimals, MidpointRounding.ToEven)))],
                priced.Total.Amount, store.Currency.Code, now);
            var seq = await AppendAsync(OrderEvents.OrderPlaced, placed.OrderId, NewEvent.Json(placed, OrderJsonContext.Default.OrderPlacedV1), cancellationToken);
            return new OrderView(placed, OrderStatus.Placed, seq);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Moves an order on (the kitchen starts or finishes it, the till hands it over or cancels it).</summary>
    public async Task<OrderView> MoveAsync(string orderId, string status, string by, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var order = await GetAsync(orderId, cancellationToken) ?? throw new RetailException(RetailProblem.NotFound, $"No order {orderId} in this store.");
            if (!OrderStatus.CanMove(order.Status, status))
            {
                throw new RetailException(RetailProblem.Conflict, $"Order {order.Order.Number} is {order.Status}; it cannot become '{status}'.");
            }

            var seq = await AppendAsync(OrderEvents.OrderStatusChanged, orderId,
                NewEvent.Json(new OrderStatusChangedV1(orderId, status, by, time.GetUtcNow()), OrderJsonContext.Default.OrderStatusChangedV1), cancellationToken);
            return order with { Status = status, Seq = seq };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>An order, or null.</summary>
    public async Task<OrderView?> GetAsync(string orderId, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE order_id = $p", orderId, cancellationToken)).FirstOrDefault();

    /// <summary>Orders in the given statuses, oldest first (the kitchen's and the till's queues, the collection screen).</summary>
    public async Task<IReadOnlyList<OrderView>> ListAsync(IReadOnlyCollection<string> statuses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        return await QueryAsync("WHERE status IN (SELECT value FROM json_each($p))", JsonSerializer.Serialize(statuses.ToArray(), OrderListJson.Default.StringArray), cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private async Task<List<OrderView>> QueryAsync(string where, string parameter, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT placed, status, seq FROM orders_orders " + where + " ORDER BY placed_at, number LIMIT 500";
        command.With("$p", parameter);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var orders = new List<OrderView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new OrderView(JsonSerializer.Deserialize(reader.GetString(0), OrderJsonContext.Default.OrderPlacedV1)!, reader.GetString(1), reader.GetInt64(2)));
        }

        return orders;
    }

    /// <summary>The menu entries and prices of the lines asked for, against the menu as it is now.</summary>
    private async Task<(List<(OrderRequestLine Request, MenuEntry Entry, IReadOnlyList<string> Without, BasketLine Line)> Ordered, PricedBasket Priced)> PriceAsync(
        IReadOnlyList<OrderRequestLine> lines, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entries = (await menu.MenuAsync(cancellationToken)).ToDictionary(e => e.Code, StringComparer.Ordinal);
        var ordered = new List<(OrderRequestLine Request, MenuEntry Entry, IReadOnlyList<string> Without, BasketLine Line)>();
        foreach (var line in lines)
        {
            if (line.Quantity is < 1 or > 20)
            {
                throw new RetailException(RetailProblem.Invalid, $"{line.Quantity} is not a quantity: order 1 to 20 of an item.");
            }

            var code = MenuCode(line.Code);
            if (!entries.TryGetValue(code, out var entry))
            {
                throw new RetailException(RetailProblem.NotFound, $"'{line.Code}' is not on the menu.");
            }

            if (!entry.Available)
            {
                throw new RetailException(RetailProblem.Conflict, $"{entry.Name} is not available right now.");
            }

            var optional = entry.Ingredients.Where(i => !i.Required).Select(i => i.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var asked = line.Without ?? [];
            if (asked.FirstOrDefault(w => !optional.Contains(w)) is { } wrong)
            {
                throw new RetailException(RetailProblem.Invalid, $"{entry.Name} cannot be made without '{wrong}'; it can leave out: {string.Join(", ", optional)}.");
            }

            var without = asked.Concat(entry.Without).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var resolved = await pricing.ResolveAsync(code, line.Quantity, now, cancellationToken);
            ordered.Add((line, entry, without, resolved.Line));
        }

        return (ordered, pricing.Price([.. ordered.Select(o => o.Line)], await promotions.GetAsync(cancellationToken), now));
    }

    private static string MenuCode(string? code) => Gtin.TryParse(code, out var gtin, out _) ? gtin.Value : code ?? string.Empty;

    /// <summary>
    /// The id of the order one device places with one key: derived, not drawn, so a retry after a lost answer or a
    /// restart finds the order in the read model (which is rebuilt from the events, so the key needs no field of its own).
    /// </summary>
    private string KeyedOrderId(string deviceId, string idempotencyKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"order\n{store.StoreId}\n{deviceId}\n{idempotencyKey}")))[..32];

    /// <summary>An order already placed, once the read model has caught up with the log (so an order placed just before a restart counts).</summary>
    private async Task<OrderView?> PlacedAsync(string orderId, CancellationToken cancellationToken)
    {
        await projected(OrdersProjection.ConsumerName, log.Head, cancellationToken);
        return await GetAsync(orderId, cancellationToken);
    }

    /// <summary>The earlier order, when the retry asks for the same items; a key reused for other items is refused.</summary>
    private static OrderView SameOrder(OrderView earlier, IReadOnlyList<OrderRequestLine> lines, string idempotencyKey)
    {
        var asked = lines.Select(l => (MenuCode(l.Code), l.Quantity));
        var placed = earlier.Order.Lines.Select(l => (l.Code, l.Quantity));
        return asked.SequenceEqual(placed)
            ? earlier
            : throw new RetailException(RetailProblem.Conflict, $"Idempotency key '{idempotencyKey}' already placed order {earlier.Order.Number} with other items; use a new key for a new order.");
    }

    private async Task<int> NextNumberAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var day = DateOnly.FromDateTime(store.LocalTime(now));
        if (_last.Day != day)
        {
            var start = TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(TimeOnly.MinValue), store.TimeZone);
            await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM orders_orders WHERE placed_at >= $start";
            command.With("$start", start.ToString("o", CultureInfo.InvariantCulture));
            _last = (day, Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture));
        }

        _last = (day, _last.Number % 999 + 1);
        return _last.Number;
    }

    private async Task<long> AppendAsync(string type, string key, byte[] payload, CancellationToken cancellationToken)
    {
        var result = await log.AppendAsync(new NewEvent { Topic = OrderEvents.OrdersTopic, Type = type, Key = key, Scope = Scope.Store(store.StoreId), Payload = payload }, cancellationToken);
        await projected(OrdersProjection.ConsumerName, result.Seq, cancellationToken);
        return result.Seq;
    }
}

/// <summary>JSON for the status list parameter.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class OrderListJson : System.Text.Json.Serialization.JsonSerializerContext;
