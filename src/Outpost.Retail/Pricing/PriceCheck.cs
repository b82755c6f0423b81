using Outpost.Retail.Catalog;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Pricing;

/// <summary>What a shelf label, a price checker or a kiosk shows for one product.</summary>
/// <param name="Product">The product.</param>
/// <param name="Shelf">Its price before promotions.</param>
/// <param name="Price">What one unit (or one kilogram) costs with the promotions that apply to it alone.</param>
/// <param name="Promotions">Those promotions.</param>
public sealed record LabelPrice(Product Product, ShelfPrice Shelf, Money Price, IReadOnlyList<AppliedPromotion> Promotions);

/// <summary>A scanned item resolved to a product, a quantity and a unit price, ready for a basket.</summary>
/// <param name="Product">The product.</param>
/// <param name="Line">The basket line.</param>
/// <param name="Source"><c>hq</c>, <c>campaign &lt;id&gt;</c> or <c>barcode</c> (a price-embedded barcode).</param>
public sealed record ResolvedItem(Product Product, BasketLine Line, string Source);

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

    /// <summary>The label of a product at an instant with the store's promotion index; null when the store does not sell it or has no price.</summary>
    public async Task<LabelPrice?> LabelAsync(Gtin gtin, PromotionIndex promotions, DateTimeOffset instant, CancellationToken cancellationToken, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(promotions);
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

    /// <summary>
    /// Resolves what the till scanned (a GTIN or a price- or weight-embedded in-store barcode) with a quantity
    /// (units, or kilograms for a weighed product; a weight-embedded barcode carries its own) at an instant.
    /// </summary>
    /// <exception cref="PricingException">The barcode, the product, its price or the quantity is not right; the message says which.</exception>
    public async Task<ResolvedItem> ResolveAsync(string scanned, decimal? quantity, DateTimeOffset instant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scanned);
        VariableMeasureBarcode? measure;
        Product? product;
        try
        {
            measure = VariableMeasureBarcode.TryRead(scanned, catalog.Layouts);
            product = await catalog.FindAsync(scanned, cancellationToken);
        }
        catch (FormatException ex)
        {
            throw new PricingException(PricingProblem.BadBarcode, ex.Message, ex);
        }

        if (product is null)
        {
            throw new PricingException(PricingProblem.UnknownProduct, $"The store does not sell {measure?.Product.ShortForm ?? scanned}.");
        }

        if (measure is { Value: EmbeddedValue.Price, Amount: > 0 })
        {
            return new ResolvedItem(product, new BasketLine(product.Gtin, product.Category, 1, new Money(measure.Amount, store.Currency), TaxClass: product.TaxClass), "barcode");
        }

        var shelf = await prices.PriceAtAsync(product.Gtin, instant, cancellationToken)
            ?? throw new PricingException(PricingProblem.NoPrice, $"{product.Name} ({product.Gtin.ShortForm}) has no price in this store at {instant:o}.");
        // A weighed item's own code (value digits zero) is the product itself: the till's scale gives the weight.
        var amount = measure is { Value: EmbeddedValue.Weight, Amount: > 0 } ? measure.Amount : quantity ?? 1m;
        if (amount <= 0)
        {
            throw new PricingException(PricingProblem.BadQuantity, $"{amount} is not a positive quantity.");
        }

        var weighed = product.Unit == SaleUnit.Kilogram;
        if (!weighed && amount != decimal.Truncate(amount))
        {
            throw new PricingException(PricingProblem.BadQuantity, $"{amount} of '{product.Name}', which is sold by the unit; give a whole number.");
        }

        var source = shelf.Source == PriceSource.StoreCampaign ? "campaign " + shelf.Reference : "hq";
        return new ResolvedItem(product, Line(product, shelf, amount), source);
    }

    /// <summary>Prices resolved lines with the store's promotions at an instant.</summary>
    public PricedBasket Price(IReadOnlyList<BasketLine> lines, PromotionIndex promotions, DateTimeOffset instant, Customer? customer = null) =>
        engine.Price(lines, promotions, store.LocalTime(instant), store.Currency, customer);

    private static BasketLine Line(Product product, ShelfPrice shelf, decimal quantity) =>
        new(product.Gtin, product.Category, quantity, shelf.Price, product.Unit == SaleUnit.Kilogram, product.TaxClass);
}
