using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Promotions;

/// <summary>Topics and event types of the promotions context.</summary>
public static class PromotionEvents
{
    /// <summary>Promotions from HQ, scoped to all stores, a region or one store; key: the promotion id.</summary>
    public const string PromotionsTopic = "promotions";

    /// <summary>A promotion was created or changed (the whole definition).</summary>
    public const string PromotionSet = "PromotionSet";

    /// <summary>A promotion was withdrawn before its end.</summary>
    public const string PromotionWithdrawn = "PromotionWithdrawn";

    /// <summary>A store-only promotion created by store staff, in the store's <c>campaigns</c> topic.</summary>
    public const string StoreCampaignPromotionSet = "StoreCampaignPromotionSet";
}

/// <summary>
/// Version 1 of a promotion's definition, the same shape in <c>PromotionSet</c> events, in store campaigns and in
/// scenario files. <c>type</c> is multiBuy (buy, pay), fixedPrice (quantity, price), percentOff (percent),
/// amountOff (amount), buyGet (buy, get, rewardProducts/rewardCategories, rewardPercent) or basketThreshold
/// (spend, off); <c>from</c>/<c>to</c> are store-local; <c>audience</c> makes it a personal offer.
/// </summary>
public sealed record PromotionDefinitionV1(
    string Id,
    string Name,
    string Type,
    IReadOnlyList<string>? Products,
    IReadOnlyList<string>? Categories,
    string Stacking = "exclusive",
    int Priority = 100,
    DateTime? From = null,
    DateTime? To = null,
    int? Buy = null,
    int? Pay = null,
    int? Quantity = null,
    decimal? Price = null,
    decimal? Percent = null,
    decimal? Spend = null,
    decimal? Off = null,
    decimal? Amount = null,
    int? Get = null,
    IReadOnlyList<string>? RewardProducts = null,
    IReadOnlyList<string>? RewardCategories = null,
    decimal RewardPercent = 100m,
    PromotionAudienceV1? Audience = null);

/// <summary>Who a personal offer is for: loyalty member ids and/or segments.</summary>
public sealed record PromotionAudienceV1(IReadOnlyList<string>? Members, IReadOnlyList<string>? Segments);

/// <summary>Version 1 of <c>PromotionWithdrawn</c>.</summary>
/// <param name="Id">The promotion.</param>
public sealed record PromotionWithdrawnV1(string Id);

/// <summary>Version 1 of <c>StoreCampaignPromotionSet</c>: a store-only promotion and who created it.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Promotion">The promotion; its validity window is the campaign's.</param>
/// <param name="CreatedBy">Who created it (staff id), recorded for audit.</param>
public sealed record StoreCampaignPromotionSetV1(string CampaignId, PromotionDefinitionV1 Promotion, string CreatedBy);

/// <summary>Source-generated JSON for the promotion events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PromotionDefinitionV1))]
[JsonSerializable(typeof(PromotionWithdrawnV1))]
[JsonSerializable(typeof(StoreCampaignPromotionSetV1))]
public sealed partial class PromotionJsonContext : JsonSerializerContext;
