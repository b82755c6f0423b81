using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Promotions;

/// <summary>How a promotion combines with others, decided per unit of product.</summary>
public enum Stacking
{
    /// <summary>The units it uses get no other promotion, exclusive or stackable.</summary>
    Exclusive = 0,

    /// <summary>It applies to units no exclusive promotion used, on top of other stackable ones, in priority order.</summary>
    Stackable = 1,
}

/// <summary>
/// A promotion: what it targets (products and/or categories), when it is valid (store-local), its priority
/// (lower first among stackables; a tie-break among exclusives) and how it stacks.
/// </summary>
public abstract record Promotion(string Id, string Name, IReadOnlySet<Gtin> Products, IReadOnlySet<string> Categories, Stacking Stacking,
    int Priority = 100, DateTime? FromLocal = null, DateTime? ToLocal = null)
{
    /// <summary>Whether a product is one this promotion targets.</summary>
    public bool Targets(Gtin gtin, string category) => Products.Contains(gtin) || Categories.Contains(category);

    /// <summary>Whether the promotion runs at a store-local moment.</summary>
    public bool ValidAt(DateTime local) => (FromLocal is null || FromLocal <= local) && (ToLocal is null || local < ToLocal);
}

/// <summary>X for the price of Y (3 for 2): in every group of X units, the X−Y cheapest are free.</summary>
public sealed record MultiBuy(string Id, string Name, IReadOnlySet<Gtin> Products, IReadOnlySet<string> Categories, Stacking Stacking, int Buy, int Pay, int Priority = 100)
    : Promotion(Id, Name, Products, Categories, Stacking, Priority);

/// <summary>N for a fixed price (3 for 5.00): every N units cost the price together, when that is cheaper.</summary>
public sealed record FixedPriceBundle(string Id, string Name, IReadOnlySet<Gtin> Products, IReadOnlySet<string> Categories, Stacking Stacking, int Quantity, Money Price, int Priority = 100)
    : Promotion(Id, Name, Products, Categories, Stacking, Priority);

/// <summary>A percentage off each targeted unit (or weighed line).</summary>
public sealed record PercentOff(string Id, string Name, IReadOnlySet<Gtin> Products, IReadOnlySet<string> Categories, Stacking Stacking, decimal Percent, int Priority = 100)
    : Promotion(Id, Name, Products, Categories, Stacking, Priority);

/// <summary>Spend at least a threshold (after item promotions), get an amount off the basket.</summary>
public sealed record BasketThreshold(string Id, string Name, Money Spend, Money Off, int Priority = 100)
    : Promotion(Id, Name, new HashSet<Gtin>(), new HashSet<string>(), Stacking.Stackable, Priority);
