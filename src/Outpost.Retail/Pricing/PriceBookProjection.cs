using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;

namespace Outpost.Retail.Pricing;

/// <summary>
/// The store's price book: HQ prices in the scopes that apply to this store (all, its region, itself) and its
/// own campaigns, in the pricing context's tables. Prices for other stores or regions are ignored.
/// </summary>
public sealed class PriceBookProjection(StoreContext store, ReadCache<string, ProductPrices>? cache = null) : IEventConsumer, ICommitListener
{
    /// <inheritdoc />
    public void Committed() => cache?.Invalidate();

    /// <inheritdoc />
    public string Name => "price-book";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(PricingEvents.PricesTopic, PricingEvents.CampaignsTopic);

    /// <summary>Creates the context's tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS pricing_prices(
                gtin TEXT NOT NULL, scope_rank INTEGER NOT NULL, from_local TEXT NOT NULL, to_local TEXT,
                amount TEXT NOT NULL, currency TEXT NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY(gtin, scope_rank, from_local)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS pricing_campaigns(
                campaign_id TEXT PRIMARY KEY, gtin TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
                from_local TEXT NOT NULL, to_local TEXT NOT NULL, created_by TEXT NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS pricing_campaigns_by_gtin ON pricing_campaigns(gtin, from_local);
            """, cancellationToken);

    /// <summary>0 for all stores, 1 for this store's region, 2 for this store; null when the scope is not this store's.</summary>
    public static int? Rank(Scope scope, StoreContext store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return scope.Kind switch
        {
            ScopeKind.All => 0,
            ScopeKind.Region when scope.Id == store.Region => 1,
            ScopeKind.Store when scope.Id == store.StoreId => 2,
            _ => null,
        };
    }

    /// <summary>Store-local moments are stored as sortable text, so range conditions compare correctly.</summary>
    public static string Local(DateTime local) => local.ToString("s", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (PricingEvents.PriceSet, 1):
                if (Rank(e.Scope, store) is not { } rank)
                {
                    return;
                }

                var price = e.Deserialize(PricingJsonContext.Default.PriceSetV1);
                await transaction.ExecuteAsync("""
                    INSERT INTO pricing_prices(gtin, scope_rank, from_local, to_local, amount, currency, seq)
                    VALUES($gtin, $rank, $from, $to, $amount, $currency, $seq)
                    ON CONFLICT(gtin, scope_rank, from_local) DO UPDATE SET to_local = excluded.to_local, amount = excluded.amount,
                        currency = excluded.currency, seq = excluded.seq
                    """, cancellationToken, ("$gtin", Gtin.Parse(price.Gtin).Value), ("$rank", rank), ("$from", Local(price.FromLocal)),
                        ("$to", price.ToLocal is { } to ? Local(to) : null), ("$amount", price.Amount.ToString(CultureInfo.InvariantCulture)),
                        ("$currency", Currency.Parse(price.Currency).Code), ("$seq", e.Seq));
                break;
            case (PricingEvents.StoreCampaignPriceSet, 1):
                if (Rank(e.Scope, store) != 2)
                {
                    return;
                }

                var campaign = e.Deserialize(PricingJsonContext.Default.StoreCampaignPriceSetV1);
                await transaction.ExecuteAsync("""
                    INSERT INTO pricing_campaigns(campaign_id, gtin, amount, currency, from_local, to_local, created_by, seq)
                    VALUES($id, $gtin, $amount, $currency, $from, $to, $by, $seq)
                    ON CONFLICT(campaign_id) DO UPDATE SET gtin = excluded.gtin, amount = excluded.amount, currency = excluded.currency,
                        from_local = excluded.from_local, to_local = excluded.to_local, created_by = excluded.created_by, seq = excluded.seq
                    """, cancellationToken, ("$id", campaign.CampaignId), ("$gtin", Gtin.Parse(campaign.Gtin).Value), ("$amount", campaign.Amount.ToString(CultureInfo.InvariantCulture)),
                        ("$currency", Currency.Parse(campaign.Currency).Code), ("$from", Local(campaign.FromLocal)), ("$to", Local(campaign.ToLocal)),
                        ("$by", campaign.CreatedBy), ("$seq", e.Seq));
                break;
            case (PricingEvents.PriceSet or PricingEvents.StoreCampaignPriceSet, _):
                throw new NotSupportedException($"The price book reads PriceSet v1 and StoreCampaignPriceSet v1, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }
}
