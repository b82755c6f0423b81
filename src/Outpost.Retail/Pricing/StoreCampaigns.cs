using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Pricing;

/// <summary>
/// Store campaigns: store-only prices and promotions that staff create from the back office, for a store-local
/// window. They are events owned by the store (scoped to it, replicated up to HQ) and win over HQ's prices in
/// their window; who created each is recorded.
/// </summary>
public sealed class StoreCampaigns(IEventLog log, StoreContext store, CatalogQueries catalog, Func<string, long, CancellationToken, Task> projected)
{
    /// <summary>The longest a campaign may run.</summary>
    public static readonly TimeSpan MaxLength = TimeSpan.FromDays(366);

    /// <summary>Creates (or replaces) a campaign price for a product.</summary>
    /// <exception cref="ArgumentException">An id, product, amount or window is not valid; nothing is recorded.</exception>
    public async Task<long> SetPriceAsync(string campaignId, string gtin, decimal amount, DateTime fromLocal, DateTime toLocal, string createdBy, CancellationToken cancellationToken)
    {
        Check(campaignId, fromLocal, toLocal, createdBy);
        if (amount < 0 || decimal.Round(amount, store.Currency.Decimals) != amount)
        {
            throw new ArgumentException($"{amount} is not a price in {store.Currency.Code}.", nameof(amount));
        }

        if (!Gtin.TryParse(gtin, out var parsed, out var problem))
        {
            throw new ArgumentException(problem, nameof(gtin));
        }

        if (await catalog.FindAsync(parsed.Value, cancellationToken) is null)
        {
            throw new ArgumentException($"The store does not sell {parsed.ShortForm}.", nameof(gtin));
        }

        var result = await log.AppendAsync(new NewEvent
        {
            Topic = PricingEvents.CampaignsTopic,
            Type = PricingEvents.StoreCampaignPriceSet,
            Key = campaignId,
            Scope = Scope.Store(store.StoreId),
            Payload = NewEvent.Json(new StoreCampaignPriceSetV1(campaignId, parsed.Value, amount, store.Currency.Code, fromLocal, toLocal, createdBy),
                PricingJsonContext.Default.StoreCampaignPriceSetV1),
        }, cancellationToken);
        await projected("price-book", result.Seq, cancellationToken); // the till and the labels show it once this returns
        return result.Seq;
    }

    /// <summary>Creates (or replaces) a store-only promotion; its window is the campaign's.</summary>
    /// <exception cref="ArgumentException">The definition or window is not valid; the message names the field.</exception>
    public async Task<long> SetPromotionAsync(string campaignId, PromotionDefinitionV1 promotion, DateTime fromLocal, DateTime toLocal, string createdBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(promotion);
        Check(campaignId, fromLocal, toLocal, createdBy);
        var windowed = promotion with { Id = "campaign-" + campaignId, From = fromLocal, To = toLocal };
        try
        {
            PromotionDefinitions.ToPromotion(windowed, "$.promotion", store.Currency);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(promotion), ex);
        }

        var result = await log.AppendAsync(new NewEvent
        {
            Topic = PricingEvents.CampaignsTopic,
            Type = PromotionEvents.StoreCampaignPromotionSet,
            Key = campaignId,
            Scope = Scope.Store(store.StoreId),
            Payload = NewEvent.Json(new StoreCampaignPromotionSetV1(campaignId, windowed, createdBy), PromotionJsonContext.Default.StoreCampaignPromotionSetV1),
        }, cancellationToken);
        await projected("promotions", result.Seq, cancellationToken);
        return result.Seq;
    }

    private static void Check(string campaignId, DateTime fromLocal, DateTime toLocal, string createdBy)
    {
        if (!Scope.IsValidId(campaignId))
        {
            throw new ArgumentException("A campaign id is 1-64 letters, digits, '-', '_' or '.'.", nameof(campaignId));
        }

        if (string.IsNullOrWhiteSpace(createdBy) || createdBy.Length > 100)
        {
            throw new ArgumentException("Who creates the campaign is recorded: give a staff id (1-100 characters).", nameof(createdBy));
        }

        if (toLocal <= fromLocal || toLocal - fromLocal > MaxLength)
        {
            throw new ArgumentException($"The window {fromLocal:s} to {toLocal:s} must end after it starts and last at most {MaxLength.TotalDays} days.", nameof(toLocal));
        }
    }
}
