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
    /// <summary>A personal offer: only for these loyalty members (by id) or segments; null for everyone.</summary>
    public Audience? Audience { get; init; }

    /// <summary>Whether the promotion is for this customer (anyone, when it has no audience).</summary>
    public bool IsFor(Customer? customer) =>
        Audience is null || (customer is not null && (Audience.Members.Contains(customer.MemberId) || customer.Segments.Overlaps(Audience.Segments)));

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

/// <summary>Buy a number of units from one set, get a number of units from another free or at a percentage off.</summary>
/// <param name="Id">The promotion's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Products">Products that count towards the purchase.</param>
/// <param name="Categories">Categories that count towards the purchase.</param>
/// <param name="Stacking">How it stacks.</param>
/// <param name="Buy">Units to buy.</param>
/// <param name="RewardProducts">Products that can be the reward.</param>
/// <param name="RewardCategories">Categories that can be the reward.</param>
/// <param name="Get">Reward units per purchase.</param>
/// <param name="RewardPercent">100 for free, 50 for half price.</param>
/// <param name="Priority">Priority.</param>
public sealed record BuyGet(string Id, string Name, IReadOnlySet<Gtin> Products, IReadOnlySet<string> Categories, Stacking Stacking, int Buy,
    IReadOnlySet<Gtin> RewardProducts, IReadOnlySet<string> RewardCategories, int Get, decimal RewardPercent = 100m, int Priority = 100)
    : Promotion(Id, Name, Products, Categories, Stacking, Priority)
{
    /// <summary>Whether a product can be the reward.</summary>
    public bool Rewards(Gtin gtin, string category) => RewardProducts.Contains(gtin) || RewardCategories.Contains(category);
}

/// <summary>An amount off each targeted unit (never below zero).</summary>
public sealed record AmountOff(string Id, string Name, IReadOnlySet<Gtin> Products, IReadOnlySet<string> Categories, Stacking Stacking, Money Amount, int Priority = 100)
    : Promotion(Id, Name, Products, Categories, Stacking, Priority);

/// <summary>Who a personal offer is for.</summary>
/// <param name="Members">Loyalty member ids.</param>
/// <param name="Segments">Member segments.</param>
public sealed record Audience(IReadOnlySet<string> Members, IReadOnlySet<string> Segments);

/// <summary>The identified customer of a basket.</summary>
/// <param name="MemberId">The loyalty member id.</param>
/// <param name="Segments">The segments the store knows the member to be in.</param>
public sealed record Customer(string MemberId, IReadOnlySet<string> Segments);
