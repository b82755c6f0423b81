using System.Globalization;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;

namespace Outpost.Retail.Pricing;

/// <summary>
/// Answers "what does this product cost here, now" from the price book's tables: a store campaign open at
/// that store-local moment wins; otherwise HQ's price in the most specific scope (store, then region, then
/// all) whose period contains the moment, the latest start first. The same answer for a label, a price check,
/// a till and a kiosk, because they all ask here.
/// </summary>
public sealed class PriceBook(IEventLog log, StoreContext store)
{
    /// <summary>The price at an instant, or null when the store has none for the product then.</summary>
    public async Task<ShelfPrice?> PriceAtAsync(Gtin gtin, DateTimeOffset instant, CancellationToken cancellationToken)
    {
        var local = PriceBookProjection.Local(store.LocalTime(instant));
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using (var campaign = connection.CreateCommand())
        {
            campaign.CommandText = """
                SELECT campaign_id, amount, currency FROM pricing_campaigns
                WHERE gtin = $gtin AND from_local <= $now AND to_local > $now ORDER BY seq DESC LIMIT 1
                """;
            Bind(campaign, gtin, local);
            await using var reader = await campaign.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return new ShelfPrice(gtin, Money(reader.GetString(1), reader.GetString(2)), PriceSource.StoreCampaign, reader.GetString(0));
            }
        }

        await using var price = connection.CreateCommand();
        price.CommandText = """
            SELECT scope_rank, amount, currency FROM pricing_prices
            WHERE gtin = $gtin AND from_local <= $now AND (to_local IS NULL OR to_local > $now)
            ORDER BY scope_rank DESC, from_local DESC, seq DESC LIMIT 1
            """;
        Bind(price, gtin, local);
        await using var rows = await price.ExecuteReaderAsync(cancellationToken);
        return await rows.ReadAsync(cancellationToken)
            ? new ShelfPrice(gtin, Money(rows.GetString(1), rows.GetString(2)), PriceSource.Hq, rows.GetInt64(0).ToString(CultureInfo.InvariantCulture))
            : null;
    }

    /// <summary>The first store-local moment after <paramref name="afterLocal"/> at which an HQ price or a store campaign starts or ends; null when none is scheduled.</summary>
    public async Task<DateTime?> NextChangeAsync(DateTime afterLocal, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT min(t) FROM (
                SELECT min(from_local) AS t FROM pricing_prices WHERE from_local > $now
                UNION ALL SELECT min(to_local) FROM pricing_prices WHERE to_local > $now
                UNION ALL SELECT min(from_local) FROM pricing_campaigns WHERE from_local > $now
                UNION ALL SELECT min(to_local) FROM pricing_campaigns WHERE to_local > $now)
            """;
        command.With("$now", PriceBookProjection.Local(afterLocal));
        return await command.ExecuteScalarAsync(cancellationToken) is string next
            ? DateTime.ParseExact(next, "s", CultureInfo.InvariantCulture, DateTimeStyles.None)
            : null;
    }

    private static Money Money(string amount, string currency) => new(decimal.Parse(amount, CultureInfo.InvariantCulture), Currency.Parse(currency));

    private static void Bind(System.Data.Common.DbCommand command, Gtin gtin, string local) => command.With("$gtin", gtin.Value).With("$now", local);
}
