using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;

namespace Outpost.Retail.Inventory;

/// <summary>
/// Stock levels and availability at the store. A counted product's level goes down with each sale; when it
/// reaches zero the product is out (reason <c>sold-out</c>) until a new count or a mark brings it back. Staff
/// marks put products and ingredients out or back in. Every event that changed availability is recorded by
/// sequence, so live views know which events to announce. Products never counted are not tracked: they stay
/// available unless marked out. Returned goods are not put back on sale automatically.
/// </summary>
public sealed class InventoryProjection(ReadCache<byte, Unavailable>? unavailable = null) : IEventConsumer, ICommitListener
{
    /// <summary>Whether the work since the last commit changed what is out of stock (most sales do not).</summary>
    private bool _availabilityChanged;

    /// <summary>The consumer's name, which names its checkpoint.</summary>
    public const string ConsumerName = "inventory";

    /// <inheritdoc />
    public string Name => ConsumerName;

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(InventoryEvents.StockTopic, CheckoutEvents.SalesTopic);

    /// <inheritdoc />
    public void Committed()
    {
        if (_availabilityChanged)
        {
            _availabilityChanged = false;
            unavailable?.Invalidate();
        }
    }

    /// <summary>Creates the context's tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
        CREATE TABLE IF NOT EXISTS inventory_levels(gtin TEXT PRIMARY KEY, quantity TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS inventory_unavailable(
            kind TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL, since_seq INTEGER NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS inventory_changes(seq INTEGER PRIMARY KEY);
        """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (InventoryEvents.StockCounted, 1):
                var count = e.Deserialize(InventoryJsonContext.Default.StockCountedV1);
                await SetLevelAsync(transaction, Gtin.Parse(count.Gtin).Value, count.Quantity, e.Seq, cancellationToken);
                break;
            case (InventoryEvents.AvailabilityMarked, 1):
                var mark = e.Deserialize(InventoryJsonContext.Default.AvailabilityMarkedV1);
                var id = mark.Kind == InventoryEvents.Product ? Gtin.Parse(mark.Id).Value : mark.Id.Trim().ToLowerInvariant();
                var changed = mark.Available
                    ? await transaction.ExecuteAsync("DELETE FROM inventory_unavailable WHERE kind = $kind AND id = $id", cancellationToken, ("$kind", mark.Kind), ("$id", id))
                    : await transaction.ExecuteAsync("INSERT OR IGNORE INTO inventory_unavailable(kind, id, reason, since_seq) VALUES($kind, $id, 'marked', $seq)", cancellationToken,
                        ("$kind", mark.Kind), ("$id", id), ("$seq", e.Seq));
                await ChangedAsync(transaction, changed, e.Seq, cancellationToken);
                break;
            case (CheckoutEvents.SaleCompleted, <= CheckoutEvents.SaleCompletedVersion):
                var sale = CheckoutEvents.ReadSaleCompleted(e);
                foreach (var line in sale.Lines)
                {
                    if (await LevelAsync(transaction, line.Gtin, cancellationToken) is { } level)
                    {
                        await SetLevelAsync(transaction, line.Gtin, level - line.Quantity, e.Seq, cancellationToken);
                    }
                }

                break;
            case (InventoryEvents.StockCounted or InventoryEvents.AvailabilityMarked or CheckoutEvents.SaleCompleted, _):
                throw new NotSupportedException($"Inventory reads StockCounted and AvailabilityMarked v1 and SaleCompleted v1 and v2, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }

    private static async Task<decimal?> LevelAsync(ILogTransaction transaction, string gtin, CancellationToken cancellationToken)
    {
        await using var command = transaction.CreateCommand("SELECT quantity FROM inventory_levels WHERE gtin = $gtin");
        command.With("$gtin", gtin);
        return await command.ExecuteScalarAsync(cancellationToken) is string text ? decimal.Parse(text, CultureInfo.InvariantCulture) : null;
    }

    private async Task SetLevelAsync(ILogTransaction transaction, string gtin, decimal quantity, long seq, CancellationToken cancellationToken)
    {
        await transaction.ExecuteAsync("INSERT INTO inventory_levels(gtin, quantity) VALUES($gtin, $q) ON CONFLICT(gtin) DO UPDATE SET quantity = excluded.quantity",
            cancellationToken, ("$gtin", gtin), ("$q", quantity.ToString(CultureInfo.InvariantCulture)));
        var changed = quantity <= 0
            ? await transaction.ExecuteAsync("INSERT OR IGNORE INTO inventory_unavailable(kind, id, reason, since_seq) VALUES('product', $gtin, 'sold-out', $seq)", cancellationToken,
                ("$gtin", gtin), ("$seq", seq))
            : await transaction.ExecuteAsync("DELETE FROM inventory_unavailable WHERE kind = 'product' AND id = $gtin AND reason = 'sold-out'", cancellationToken, ("$gtin", gtin));
        await ChangedAsync(transaction, changed, seq, cancellationToken);
    }

    private async Task ChangedAsync(ILogTransaction transaction, int changed, long seq, CancellationToken cancellationToken)
    {
        if (changed > 0)
        {
            // Also set by work that is then rolled back: the cache is dropped once more than needed, never kept stale.
            _availabilityChanged = true;
            await transaction.ExecuteAsync("INSERT OR IGNORE INTO inventory_changes(seq) VALUES($seq)", cancellationToken, ("$seq", seq));
        }
    }
}
