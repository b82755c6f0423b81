using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Promotions;

/// <summary>A line as the till scanned it: a product, how many (or how much, for a weighed item), at what unit price.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Category">Its category.</param>
/// <param name="Quantity">Units, or kilograms for a weighed item.</param>
/// <param name="UnitPrice">The shelf price per unit or per kilogram.</param>
/// <param name="Weighed">Whether the quantity is a weight (weighed items take percentages, not multi-buys).</param>
/// <param name="TaxClass">Its tax class (for example <c>standard</c>, <c>reduced</c>).</param>
public sealed record BasketLine(Gtin Gtin, string Category, decimal Quantity, Money UnitPrice, bool Weighed = false, string TaxClass = "standard");

/// <summary>How many units of a product a promotion used.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Units">Units (or 1 for a weighed line).</param>
public sealed record UnitsUsed(Gtin Gtin, int Units);

/// <summary>A promotion the engine applied, the units it used and what it saved.</summary>
/// <param name="PromotionId">The promotion.</param>
/// <param name="Name">Its name, for the receipt.</param>
/// <param name="Used">The units it used, by product.</param>
/// <param name="Saving">What it saved, rounded.</param>
public sealed record AppliedPromotion(string PromotionId, string Name, IReadOnlyList<UnitsUsed> Used, Money Saving);

/// <summary>A priced basket: before and after promotions, and why.</summary>
/// <param name="Subtotal">Sum of the lines at shelf prices.</param>
/// <param name="Applied">Every promotion applied, in the order it was applied.</param>
/// <param name="Total">What the customer pays.</param>
/// <param name="LineAmounts">What each input line costs after every promotion, in input order (unrounded).</param>
public sealed record PricedBasket(Money Subtotal, IReadOnlyList<AppliedPromotion> Applied, Money Total, IReadOnlyList<decimal> LineAmounts)
{
    /// <summary>The total saving.</summary>
    public Money Saving => Subtotal - Total;
}
