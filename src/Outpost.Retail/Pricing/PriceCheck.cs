using Outpost.Retail.Catalog;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Pricing;

/// <summary>What a shelf label, a price checker or a kiosk shows for one product.</summary>
/// <param name="Product">The product.</param>
/// <param name="Shelf">Its price before promotions.</param>
/// <param name="Price">What one unit (or one kilogram) costs with the promotions that apply to it alone.</param>
/// <param name="Promotions">Those promotions.</param>
public sealed record LabelPrice(Product Product, ShelfPrice Shelf, Money Price, IReadOnlyList<AppliedPromotion> Promotions);

/// <summary>
/// One way to price, for every device: labels, price checks, tills, kiosks and receipts all go through the
/// catalog, the price book and the promotions engine here, so they show the same price at the same moment.
/// A label is the price of a single-item basket.
/// </summary>
public sealed class PriceCheck(CatalogQueries catalog, PriceBook prices, PromotionEngine engine, StoreContext store)
{
    /// <summary>The label of a product at an instant; null when the store does not sell it or has no price.</summary>
    public async Task<LabelPrice?> LabelAsync(Gtin gtin, IReadOnlyList<Promotion> promotions, DateTimeOffset instant, CancellationToken cancellationToken, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (await catalog.FindAsync(gtin.Value, cancellationToken) is not { } product
            || await prices.PriceAtAsync(product.Gtin, instant, cancellationToken) is not { } shelf)
        {
            return null;
        }

        var priced = engine.Price([Line(product, shelf, 1m)], promotions, store.LocalTime(instant), store.Currency, customer);
        return new LabelPrice(product, shelf, priced.Total, priced.Applied);
    }

    /// <summary>A basket of products and quantities (kilograms for weighed products) at an instant.</summary>
    /// <exception cref="InvalidOperationException">A product is unknown or has no price then.</exception>
    public async Task<PricedBasket> BasketAsync(IReadOnlyList<(Gtin Gtin, decimal Quantity)> items, IReadOnlyList<Promotion> promotions, DateTimeOffset instant,
        CancellationToken cancellationToken, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        var lines = new List<BasketLine>(items.Count);
        foreach (var (gtin, quantity) in items)
        {
            var product = await catalog.FindAsync(gtin.Value, cancellationToken) ?? throw new InvalidOperationException($"The store does not sell {gtin.ShortForm}.");
            var shelf = await prices.PriceAtAsync(product.Gtin, instant, cancellationToken) ?? throw new InvalidOperationException($"{product.Name} has no price at {instant:o}.");
            lines.Add(Line(product, shelf, quantity));
        }

        return engine.Price(lines, promotions, store.LocalTime(instant), store.Currency, customer);
    }

    private static BasketLine Line(Product product, ShelfPrice shelf, decimal quantity) =>
        new(product.Gtin, product.Category, quantity, shelf.Price, product.Unit == SaleUnit.Kilogram, product.TaxClass);
}
