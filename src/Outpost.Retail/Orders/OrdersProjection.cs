using System.Text;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Retail.Orders;

/// <summary>The orders context's read model: every order with its status, for the till queue, the kitchen and the collection screen.</summary>
public sealed class OrdersProjection : IEventConsumer
{
    /// <summary>The consumer's name, which names its checkpoint.</summary>
    public const string ConsumerName = "orders";

    /// <inheritdoc />
    public string Name => ConsumerName;

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(OrderEvents.OrdersTopic);

    /// <summary>Creates the context's tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
        CREATE TABLE IF NOT EXISTS orders_orders(
            order_id TEXT PRIMARY KEY, number INTEGER NOT NULL, status TEXT NOT NULL, placed_at TEXT NOT NULL, placed TEXT NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS orders_by_status ON orders_orders(status, placed_at);
        """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (OrderEvents.OrderPlaced, 1):
                var placed = e.Deserialize(OrderJsonContext.Default.OrderPlacedV1);
                await transaction.ExecuteAsync("""
                    INSERT OR IGNORE INTO orders_orders(order_id, number, status, placed_at, placed, seq) VALUES($id, $number, 'placed', $at, $placed, $seq)
                    """, cancellationToken, ("$id", placed.OrderId), ("$number", placed.Number), ("$at", placed.PlacedAt.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture)),
                    ("$placed", Encoding.UTF8.GetString(e.Payload.Span)), ("$seq", e.Seq));
                break;
            case (OrderEvents.OrderStatusChanged, 1):
                var changed = e.Deserialize(OrderJsonContext.Default.OrderStatusChangedV1);
                await transaction.ExecuteAsync("UPDATE orders_orders SET status = $status, seq = $seq WHERE order_id = $id", cancellationToken,
                    ("$id", changed.OrderId), ("$status", changed.Status), ("$seq", e.Seq));
                break;
            case (OrderEvents.OrderPlaced or OrderEvents.OrderStatusChanged, _):
                throw new NotSupportedException($"Orders reads OrderPlaced and OrderStatusChanged v1, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }
}
