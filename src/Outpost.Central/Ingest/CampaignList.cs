using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Central.Ingest;

/// <summary>A store campaign as HQ lists it.</summary>
/// <param name="StoreId">The store that created it.</param>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Kind"><c>price</c> or <c>promotion</c>.</param>
/// <param name="Subject">The product (a price) or the promotion's name.</param>
/// <param name="Price">The campaign price, for a price campaign.</param>
/// <param name="FromLocal">Start, store-local.</param>
/// <param name="ToLocal">End, store-local.</param>
/// <param name="CreatedBy">Who created it at the store.</param>
public sealed record CampaignRecord(string StoreId, string CampaignId, string Kind, string Subject, decimal? Price, DateTime FromLocal, DateTime ToLocal, string CreatedBy);

/// <summary>The store campaigns of the fleet: what each store's staff priced or promoted on their own, and when.</summary>
public sealed class CampaignList : IEventConsumer
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_campaigns(
            store       TEXT   NOT NULL,
            campaign    TEXT   NOT NULL,
            kind        TEXT   NOT NULL,
            subject     TEXT   NOT NULL,
            price_milli BIGINT,
            from_local  TEXT   NOT NULL,
            to_local    TEXT   NOT NULL,
            created_by  TEXT   NOT NULL,
            PRIMARY KEY(store, campaign))
        """;

    /// <inheritdoc />
    public string Name => "hq-campaigns";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(PricingEvents.CampaignsTopic);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        var store = e.Origin.Node.Value;
        switch (e.Type, e.Version)
        {
            case (PricingEvents.StoreCampaignPriceSet, 1):
                var price = e.Deserialize(PricingJsonContext.Default.StoreCampaignPriceSetV1);
                await UpsertAsync(transaction, new CampaignRecord(store, price.CampaignId, "price", price.Gtin, price.Amount, price.FromLocal, price.ToLocal, price.CreatedBy), cancellationToken);
                break;
            case (PromotionEvents.StoreCampaignPromotionSet, 1):
                var promotion = e.Deserialize(PromotionJsonContext.Default.StoreCampaignPromotionSetV1);
                await UpsertAsync(transaction, new CampaignRecord(store, promotion.CampaignId, "promotion", promotion.Promotion.Name, null,
                    promotion.Promotion.From ?? DateTime.MinValue, promotion.Promotion.To ?? DateTime.MaxValue, promotion.CreatedBy), cancellationToken);
                break;
            case (PricingEvents.StoreCampaignPriceSet or PromotionEvents.StoreCampaignPromotionSet, _):
                throw new NotSupportedException($"HQ's campaign list reads {e.Type} v1, not v{e.Version}; upgrade HQ to read it.");
        }
    }

    /// <summary>Every campaign, or one store's, newest start first.</summary>
    public static async Task<IReadOnlyList<CampaignRecord>> ListAsync(IEventLog log, string? store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, campaign, kind, subject, price_milli, from_local, to_local, created_by FROM hq_campaigns"
            + (store is null ? "" : " WHERE store = @store") + " ORDER BY from_local DESC, store, campaign";
        if (store is not null)
        {
            command.With("@store", store);
        }

        var list = new List<CampaignRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new CampaignRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : HqAmounts.FromMilli(Convert.ToInt64(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture)),
                Local(reader.GetString(5)), Local(reader.GetString(6)), reader.GetString(7)));
        }

        return list;
    }

    private static DateTime Local(string text) => DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind);

    private static async Task UpsertAsync(ILogTransaction tx, CampaignRecord c, CancellationToken cancellationToken) =>
        await tx.ExecuteAsync("""
            INSERT INTO hq_campaigns(store, campaign, kind, subject, price_milli, from_local, to_local, created_by)
            VALUES(@store, @campaign, @kind, @subject, @price, @from, @to, @by)
            ON CONFLICT(store, campaign) DO UPDATE SET kind = excluded.kind, subject = excluded.subject, price_milli = excluded.price_milli,
                from_local = excluded.from_local, to_local = excluded.to_local, created_by = excluded.created_by
            """, cancellationToken, ("@store", c.StoreId), ("@campaign", c.CampaignId), ("@kind", c.Kind), ("@subject", c.Subject),
            ("@price", c.Price is { } p ? HqAmounts.ToMilli(p) : null), ("@from", c.FromLocal.ToString("s", System.Globalization.CultureInfo.InvariantCulture)),
            ("@to", c.ToLocal.ToString("s", System.Globalization.CultureInfo.InvariantCulture)), ("@by", c.CreatedBy));
}
