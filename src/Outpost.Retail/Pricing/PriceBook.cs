using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;

namespace Outpost.Retail.Pricing;

/// <summary>
/// Answers "what does this product cost here, now" from the price book's tables: a store campaign open at
/// that store-local moment wins; otherwise HQ's price in the most specific scope (store, then region, then
/// all) whose period contains the moment, the latest start first. The same answer for a label, a price check,
/// a till and a kiosk, because they all ask here.
/// </summary>
/// <remarks>
/// With a <paramref name="cache"/> (the one <see cref="PriceBookProjection"/> empties after each commit), a product's
/// prices and campaigns are read once and the moment's price is chosen in memory; without one, they are read at
/// each call. The choice is the same code either way.
/// </remarks>
public sealed class PriceBook(IEventLog log, StoreContext store, ReadCache<string, ProductPrices>? cache = null)
{
    /// <summary>The price at an instant, or null when the store has none for the product then.</summary>
    public async Task<ShelfPrice?> PriceAtAsync(Gtin gtin, DateTimeOffset instant, CancellationToken cancellationToken)
    {
        var local = PriceBookProjection.Local(store.LocalTime(instant));
        var prices = cache is null ? await ReadAsync(gtin.Value, cancellationToken) : await cache.GetOrReadAsync(gtin.Value, ReadAsync, cancellationToken);

        // A store campaign open at that moment wins (the latest created, if several overlap).
        ProductPrices.Campaign? campaign = null;
        foreach (var c in prices.Campaigns)
        {
            if (string.CompareOrdinal(c.FromLocal, local) <= 0 && string.CompareOrdinal(c.ToLocal, local) > 0 && (campaign is null || c.Seq > campaign.Seq))
            {
                campaign = c;
            }
        }

        if (campaign is not null)
        {
            return new ShelfPrice(gtin, Money(campaign.Amount, campaign.Currency), PriceSource.StoreCampaign, campaign.Id);
        }

        // Otherwise HQ's price in the most specific scope whose period contains the moment, the latest start first.
        ProductPrices.Price? best = null;
        foreach (var p in prices.Prices)
        {
            if (string.CompareOrdinal(p.FromLocal, local) <= 0 && (p.ToLocal is null || string.CompareOrdinal(p.ToLocal, local) > 0) && (best is null || Precedes(p, best)))
            {
                best = p;
            }
        }

        return best is null ? null : new ShelfPrice(gtin, Money(best.Amount, best.Currency), PriceSource.Hq, best.ScopeRank.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The more specific scope first, then the later start, then the later event.</summary>
    private static bool Precedes(ProductPrices.Price a, ProductPrices.Price b)
    {
        if (a.ScopeRank != b.ScopeRank)
        {
            return a.ScopeRank > b.ScopeRank;
        }

        var start = string.CompareOrdinal(a.FromLocal, b.FromLocal);
        return start != 0 ? start > 0 : a.Seq > b.Seq;
    }

    /// <summary>Every price and campaign the store holds for one product (a handful of periods).</summary>
    private async Task<ProductPrices> ReadAsync(string gtin, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        var campaigns = new List<ProductPrices.Campaign>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT campaign_id, amount, currency, from_local, to_local, seq FROM pricing_campaigns WHERE gtin = $gtin";
            command.With("$gtin", gtin);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                campaigns.Add(new ProductPrices.Campaign(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5)));
            }
        }

        var prices = new List<ProductPrices.Price>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT scope_rank, amount, currency, from_local, to_local, seq FROM pricing_prices WHERE gtin = $gtin";
            command.With("$gtin", gtin);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                prices.Add(new ProductPrices.Price(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetInt64(5)));
            }
        }

        return new ProductPrices(prices, campaigns);
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

}

/// <summary>What the price book holds for one product: HQ's prices by scope and period, and the store's campaigns.</summary>
/// <param name="Prices">HQ's prices.</param>
/// <param name="Campaigns">Store campaign prices.</param>
public sealed record ProductPrices(IReadOnlyList<ProductPrices.Price> Prices, IReadOnlyList<ProductPrices.Campaign> Campaigns)
{
    /// <summary>An HQ price: scope rank (2 store, 1 region, 0 all), amount and currency as stored, store-local period (to: open-ended when null).</summary>
    public sealed record Price(long ScopeRank, string Amount, string Currency, string FromLocal, string? ToLocal, long Seq);

    /// <summary>A store campaign price over a store-local period.</summary>
    public sealed record Campaign(string Id, string Amount, string Currency, string FromLocal, string ToLocal, long Seq);
}
