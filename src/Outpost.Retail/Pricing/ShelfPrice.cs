using Outpost.Retail.Catalog;

namespace Outpost.Retail.Pricing;

/// <summary>Where a price came from.</summary>
public enum PriceSource
{
    /// <summary>HQ's price book, in the most specific scope that applies.</summary>
    Hq = 0,

    /// <summary>A store campaign, which wins over HQ's prices in its window.</summary>
    StoreCampaign = 1,
}

/// <summary>The price of one product at one moment in one store, and why.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Price">The price.</param>
/// <param name="Source">HQ or a store campaign.</param>
/// <param name="Reference">The campaign id, or the scope rank (0 all, 1 region, 2 store) of HQ's price.</param>
public sealed record ShelfPrice(Gtin Gtin, Money Price, PriceSource Source, string Reference)
{
    /// <summary>Where the price comes from, as receipts and screens show it: <c>hq</c> or <c>campaign &lt;id&gt;</c>.</summary>
    public string SourceName => Source == PriceSource.StoreCampaign ? "campaign " + Reference : "hq";
}
