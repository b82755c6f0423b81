using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;
using Outpost.Retail.Inventory;

namespace Outpost.Central.Ingest;

/// <summary>A product's stock at one store, as HQ last heard it.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Gtin">The product.</param>
/// <param name="Quantity">On hand: the last count, less what the store sold since.</param>
/// <param name="AsOf">When the store last reported a change (count or sale), by the store's clock.</param>
public sealed record StoreStock(string StoreId, string Gtin, decimal Quantity, DateTimeOffset AsOf);

/// <summary>
/// Current stock by store and product: a store's <c>StockCounted</c> sets it, its <c>SaleCompleted</c> lines take
/// from it. A product never counted at a store has no figure there (HQ does not guess from sales alone).
/// </summary>
public sealed class StockByStore : IEventConsumer
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_stock(
            store          TEXT   NOT NULL,
            gtin           TEXT   NOT NULL,
            quantity_milli BIGINT NOT NULL,
            as_of          BIGINT NOT NULL,
            changed_seq    BIGINT NOT NULL,
            PRIMARY KEY(store, gtin));
        CREATE INDEX IF NOT EXISTS hq_stock_by_change ON hq_stock(changed_seq);
        CREATE INDEX IF NOT EXISTS hq_stock_by_gtin ON hq_stock(gtin)
        """;

    /// <inheritdoc />
    public string Name => "hq-stock";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = new() { Topics = [InventoryEvents.StockTopic, CheckoutEvents.SalesTopic], Types = [InventoryEvents.StockCounted, CheckoutEvents.SaleCompleted] };

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        var store = e.Origin.Node.Value;
        var at = e.Origin.Timestamp.PhysicalMilliseconds;
        switch (e.Type, e.Version)
        {
            case (InventoryEvents.StockCounted, 1):
                var count = e.Deserialize(InventoryJsonContext.Default.StockCountedV1);
                await transaction.ExecuteAsync("""
                    INSERT INTO hq_stock(store, gtin, quantity_milli, as_of, changed_seq) VALUES(@store, @gtin, @quantity, @at, @seq)
                    ON CONFLICT(store, gtin) DO UPDATE SET quantity_milli = excluded.quantity_milli, as_of = excluded.as_of, changed_seq = excluded.changed_seq
                    """, cancellationToken, ("@store", store), ("@gtin", Normal(count.Gtin)), ("@quantity", HqAmounts.ToMilli(count.Quantity)), ("@at", at), ("@seq", e.Seq));
                break;
            case (CheckoutEvents.SaleCompleted, <= CheckoutEvents.SaleCompletedVersion):
                var sale = CheckoutEvents.ReadSaleCompleted(e);
                foreach (var line in sale.Lines)
                {
                    await transaction.ExecuteAsync("UPDATE hq_stock SET quantity_milli = quantity_milli - @sold, as_of = @at, changed_seq = @seq WHERE store = @store AND gtin = @gtin",
                        cancellationToken, ("@sold", HqAmounts.ToMilli(line.Quantity)), ("@at", at), ("@seq", e.Seq), ("@store", store), ("@gtin", Normal(line.Gtin)));
                }

                break;
            case (InventoryEvents.StockCounted or CheckoutEvents.SaleCompleted, _):
                throw new NotSupportedException($"HQ's stock read model reads StockCounted v1 and SaleCompleted v1 and v2, not {e.Type} v{e.Version}; upgrade HQ to read it.");
        }
    }

    /// <summary>GTINs as one form (GTIN-14), whichever form a store or a caller wrote.</summary>
    public static string Normal(string gtin) => Outpost.Retail.Catalog.Gtin.TryParse(gtin, out var parsed) ? parsed.Value : gtin;

    /// <summary>A product's stock at every store that counted it.</summary>
    public static async Task<IReadOnlyList<StoreStock>> ForProductAsync(IEventLog log, string gtin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, gtin, quantity_milli, as_of FROM hq_stock WHERE gtin = @gtin ORDER BY store";
        command.With("@gtin", Normal(gtin));
        var stock = new List<StoreStock>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stock.Add(new StoreStock(reader.GetString(0), reader.GetString(1), HqAmounts.FromMilli(Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture)),
                DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture))));
        }

        return stock;
    }
}
