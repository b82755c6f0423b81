using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Scenarios;

/// <summary>A pricing scenario: a store, a moment, its catalog, prices, campaigns, promotions and baskets to price.</summary>
public sealed record ScenarioFile(
    ScenarioStore Store,
    DateTimeOffset Moment,
    IReadOnlyList<ScenarioProduct> Products,
    IReadOnlyList<ScenarioPrice> Prices,
    IReadOnlyList<ScenarioCampaign>? Campaigns,
    IReadOnlyList<PromotionDefinitionV1>? Promotions,
    IReadOnlyList<ScenarioBasket> Baskets,
    string Rounding = "halfEven",
    ScenarioTaxes? Taxes = null);

/// <summary>Tax rates per class, and whether prices include tax (the default).</summary>
public sealed record ScenarioTaxes(IReadOnlyDictionary<string, decimal> Rates, bool IncludedInPrices = true);

/// <summary>An identified loyalty member, for personal offers.</summary>
public sealed record ScenarioCustomer(string MemberId, IReadOnlyList<string>? Segments);

/// <summary>The store: id, region, IANA time zone, ISO 4217 currency.</summary>
public sealed record ScenarioStore(string Id, string Region, string TimeZone, string Currency);

/// <summary>A product of the catalog.</summary>
public sealed record ScenarioProduct(string Gtin, string Name, string Category, string TaxClass = "standard", string Unit = "each");

/// <summary>An HQ price: scope <c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>, store-local period.</summary>
public sealed record ScenarioPrice(string Gtin, decimal Amount, string Scope, DateTime From, DateTime? To);

/// <summary>A store campaign price for a store-local window.</summary>
public sealed record ScenarioCampaign(string Id, string Gtin, decimal Amount, DateTime From, DateTime To, string CreatedBy);

/// <summary>A basket: lines by GTIN with a quantity (or a weight in kg), or a scanned in-store barcode.</summary>
public sealed record ScenarioBasket(string Name, IReadOnlyList<ScenarioLine> Lines, ScenarioCustomer? Customer = null);

/// <summary>One line: <c>gtin</c> and <c>quantity</c>, or <c>scan</c> (a price- or weight-embedded barcode).</summary>
public sealed record ScenarioLine(string? Gtin, decimal? Quantity, string? Scan);

/// <summary>A priced basket, as printed.</summary>
public sealed record PricedScenarioBasket(string Name, IReadOnlyList<PricedScenarioLine> Lines, IReadOnlyList<ScenarioSaving> Promotions, decimal Subtotal, decimal Saving, decimal Total, string Currency,
    IReadOnlyList<ScenarioTax>? Taxes = null, decimal? TaxTotal = null);

/// <summary>One tax class of a priced basket.</summary>
public sealed record ScenarioTax(string TaxClass, decimal Rate, decimal Net, decimal Tax);

/// <summary>A priced line.</summary>
public sealed record PricedScenarioLine(string Gtin, string Name, decimal Quantity, decimal UnitPrice, decimal Amount, string PriceSource);

/// <summary>An applied promotion with the units it used and its saving.</summary>
public sealed record ScenarioSaving(string Id, string Name, IReadOnlyList<ScenarioUnits> Used, decimal Saving);

/// <summary>Units of a product a promotion used.</summary>
public sealed record ScenarioUnits(string Gtin, int Units);

/// <summary>Source-generated JSON for scenario files and their results (camelCase, comments and trailing commas allowed).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ScenarioFile))]
[JsonSerializable(typeof(IReadOnlyList<PricedScenarioBasket>))]
public sealed partial class ScenarioJsonContext : JsonSerializerContext;
