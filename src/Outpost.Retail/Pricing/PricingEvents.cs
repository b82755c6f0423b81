using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Pricing;

/// <summary>Topics and event types of the pricing context.</summary>
public static class PricingEvents
{
    /// <summary>Base prices from HQ, scoped to all stores, a region or one store; key <c>scope|gtin|from</c>.</summary>
    public const string PricesTopic = "prices";

    /// <summary>Store campaigns, written by the store and sent up; key: the campaign id.</summary>
    public const string CampaignsTopic = "campaigns";

    /// <summary>A base price for a period.</summary>
    public const string PriceSet = "PriceSet";

    /// <summary>A store-only price for a period, set by store staff.</summary>
    public const string StoreCampaignPriceSet = "StoreCampaignPriceSet";

    /// <summary>
    /// The key of a price event: several scheduled prices of one product coexist, and so do a national, a regional and
    /// a store price from the same moment (compaction keeps the newest per key, so the scope is part of it).
    /// </summary>
    public static string PriceKey(Outpost.Core.Events.Scope scope, string gtin, DateTime fromLocal) =>
        scope + "|" + gtin + "|" + fromLocal.ToString("s", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Version 1 of <c>PriceSet</c>: the price of a product, in the scope of the event, from a store-local moment.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Amount">The price, tax-inclusive unless the store is configured otherwise.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="FromLocal">First store-local moment it applies (for example 06:00 on the day of a change).</param>
/// <param name="ToLocal">Store-local moment it stops applying; null: until replaced.</param>
public sealed record PriceSetV1(string Gtin, decimal Amount, string Currency, DateTime FromLocal, DateTime? ToLocal);

/// <summary>Version 1 of <c>StoreCampaignPriceSet</c>: a store-only price for a window, winning over HQ's prices there.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Gtin">The product.</param>
/// <param name="Amount">The campaign price.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="FromLocal">Start, store-local.</param>
/// <param name="ToLocal">End, store-local.</param>
/// <param name="CreatedBy">Who created it (staff id), recorded for audit.</param>
public sealed record StoreCampaignPriceSetV1(string CampaignId, string Gtin, decimal Amount, string Currency, DateTime FromLocal, DateTime ToLocal, string CreatedBy);

/// <summary>Source-generated JSON for the pricing events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PriceSetV1))]
[JsonSerializable(typeof(StoreCampaignPriceSetV1))]
public sealed partial class PricingJsonContext : JsonSerializerContext;
