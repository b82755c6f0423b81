using Outpost.Core.Diagnostics;
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
    public Task<LabelPrice?> LabelAsync(Gtin gtin, IReadOnlyList<Promotion> promotions, DateTimeOffset instant, CancellationToken cancellationToken, Customer? customer = null) =>
        LabelAsync(gtin.Value, new PromotionIndex(promotions), instant, cancellationToken, customer);

    /// <summary>The label of what was scanned (a GTIN or an in-store barcode) at an instant; null when the store does not sell it or has no price.</summary>
    /// <exception cref="RetailException">The code is not a valid GTIN (<see cref="RetailProblem.Invalid"/>).</exception>
    public async Task<LabelPrice?> LabelAsync(string scanned, PromotionIndex promotions, DateTimeOffset instant, CancellationToken cancellationToken, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(promotions);
        if (await FindAsync(scanned, cancellationToken) is not { } product
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
    /// <exception cref="RetailException">The barcode or the quantity is invalid (<see cref="RetailProblem.Invalid"/>, with the field), the store does not sell the product
    /// (<see cref="RetailProblem.NotFound"/>) or has no price for it then (<see cref="RetailProblem.Invalid"/>); the message says which.</exception>
    public async Task<ResolvedItem> ResolveAsync(string scanned, decimal? quantity, DateTimeOffset instant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scanned);
        var product = await FindAsync(scanned, cancellationToken);
        var measure = VariableMeasureBarcode.TryRead(scanned, catalog.Layouts);
        if (product is null)
        {
            throw new RetailException(RetailProblem.NotFound, $"The store does not sell {measure?.Product.ShortForm ?? scanned}.");
        }

        if (measure is { Value: EmbeddedValue.Price, Amount: > 0 })
        {
            return new ResolvedItem(product, new BasketLine(product.Gtin, product.Category, 1, new Money(measure.Amount, store.Currency), TaxClass: product.TaxClass), "barcode");
        }

        var shelf = await prices.PriceAtAsync(product.Gtin, instant, cancellationToken)
            ?? throw new RetailException(RetailProblem.Invalid, $"{product.Name} ({product.Gtin.ShortForm}) has no price in this store at {instant:o}.");
        // A weighed item's own code (value digits zero) is the product itself: the till's scale gives the weight.
        var amount = measure is { Value: EmbeddedValue.Weight, Amount: > 0 } ? measure.Amount : quantity ?? 1m;
        if (amount <= 0)
        {
            throw new RetailException(RetailProblem.Invalid, $"{amount} is not a positive quantity.", field: "quantity");
        }

        var weighed = product.Unit == SaleUnit.Kilogram;
        if (!weighed && amount != decimal.Truncate(amount))
        {
            throw new RetailException(RetailProblem.Invalid, $"{amount} of '{product.Name}', which is sold by the unit; give a whole number.", field: "quantity");
        }

        return new ResolvedItem(product, Line(product, shelf, amount), shelf.SourceName);
    }

    /// <summary>Prices resolved lines with the store's promotions at an instant.</summary>
    public PricedBasket Price(IReadOnlyList<BasketLine> lines, PromotionIndex promotions, DateTimeOffset instant, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        using var span = OutpostTracing.Source.StartActivity("outpost.price basket");
        var priced = engine.Price(lines, promotions, store.LocalTime(instant), store.Currency, customer);
        if (span is not null)
        {
            span.SetTag("outpost.lines", lines.Count);
            span.SetTag("outpost.promotions_applied", priced.Applied.Count);
        }

        return priced;
    }

    private async Task<Product?> FindAsync(string scanned, CancellationToken cancellationToken)
    {
        try
        {
            return await catalog.FindAsync(scanned, cancellationToken);
        }
        catch (FormatException ex)
        {
            throw new RetailException(RetailProblem.Invalid, ex.Message, ex, "code");
        }
    }

    private static BasketLine Line(Product product, ShelfPrice shelf, decimal quantity) =>
        new(product.Gtin, product.Category, quantity, shelf.Price, product.Unit == SaleUnit.Kilogram, product.TaxClass);
}
