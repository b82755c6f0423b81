using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Promotions;

/// <summary>
/// The store's promotions: HQ promotions in the scopes that apply to this store and the store's own campaign
/// promotions, one row per promotion id with its definition, in the promotions context's tables. A version
/// row moves with every change so <see cref="PromotionCatalog"/> knows when to rebuild its index.
/// </summary>
public sealed class PromotionsProjection(StoreContext store, ReadCache<byte, PromotionIndex>? cache = null) : IEventConsumer, ICommitListener
{
    /// <inheritdoc />
    public string Name => "promotions";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(PromotionEvents.PromotionsTopic, PricingEvents.CampaignsTopic);

    /// <inheritdoc />
    public void Committed() => cache?.Invalidate();

    /// <summary>Creates the context's tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS promotions_defs(
                id TEXT PRIMARY KEY, source TEXT NOT NULL, definition TEXT NOT NULL, created_by TEXT, seq INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS promotions_version(k INTEGER PRIMARY KEY CHECK (k = 1), seq INTEGER NOT NULL);
            INSERT OR IGNORE INTO promotions_version VALUES(1, 0);
            """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (PromotionEvents.PromotionSet, 1):
                if (PriceBookProjection.Rank(e.Scope, store) is null)
                {
                    return;
                }

                var definition = e.Deserialize(PromotionJsonContext.Default.PromotionDefinitionV1);
                PromotionDefinitions.ToPromotion(definition, "$", store.Currency);
                await UpsertAsync(transaction, definition, "hq", null, e.Seq, cancellationToken);
                break;
            case (PromotionEvents.PromotionWithdrawn, 1):
                if (PriceBookProjection.Rank(e.Scope, store) is null)
                {
                    return;
                }

                var withdrawn = e.Deserialize(PromotionJsonContext.Default.PromotionWithdrawnV1);
                await ChangeAsync(transaction, "DELETE FROM promotions_defs WHERE id = $id AND source = 'hq'", e.Seq, cancellationToken, ("$id", withdrawn.Id));
                break;
            case (PromotionEvents.StoreCampaignPromotionSet, 1):
                if (PriceBookProjection.Rank(e.Scope, store) != 2)
                {
                    return;
                }

                var campaign = e.Deserialize(PromotionJsonContext.Default.StoreCampaignPromotionSetV1);
                PromotionDefinitions.ToPromotion(campaign.Promotion, "$.promotion", store.Currency);
                await UpsertAsync(transaction, campaign.Promotion, "campaign:" + campaign.CampaignId, campaign.CreatedBy, e.Seq, cancellationToken);
                break;
            case (PromotionEvents.PromotionSet or PromotionEvents.PromotionWithdrawn or PromotionEvents.StoreCampaignPromotionSet, _):
                throw new NotSupportedException($"The promotions context reads PromotionSet v1, PromotionWithdrawn v1 and StoreCampaignPromotionSet v1, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }

    private static Task UpsertAsync(ILogTransaction transaction, PromotionDefinitionV1 definition, string source, string? createdBy, long seq, CancellationToken cancellationToken) =>
        ChangeAsync(transaction, """
            INSERT INTO promotions_defs(id, source, definition, created_by, seq) VALUES($id, $source, $definition, $by, $seq)
            ON CONFLICT(id) DO UPDATE SET source = excluded.source, definition = excluded.definition, created_by = excluded.created_by, seq = excluded.seq
            """, seq, cancellationToken, ("$id", definition.Id), ("$source", source),
            ("$definition", JsonSerializer.Serialize(definition, PromotionJsonContext.Default.PromotionDefinitionV1)), ("$by", createdBy), ("$seq", seq));

    private static async Task ChangeAsync(ILogTransaction transaction, string sql, long seq, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await transaction.ExecuteAsync(sql, cancellationToken, parameters);
        await transaction.ExecuteAsync("UPDATE promotions_version SET seq = $seq WHERE k = 1", cancellationToken, ("$seq", seq));
    }
}
