using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

public sealed class TaxTests
{
    private static readonly Currency Eur = Currency.Eur;
    private static readonly Dictionary<string, decimal> FrenchRates = new() { ["standard"] = 0.20m, ["reduced"] = 0.055m };

    private static Money M(decimal amount) => new(amount, Eur);

    [Fact]
    public void A_promotions_saving_is_taken_off_the_lines_it_used_in_proportion_to_their_price()
    {
        // 3 for 2 on snacks over B (2.00), A (1.50), A (1.50): 1.50 saved over 5.00, 30% off each unit.
        var a = Gtin.Parse("96385074");
        var b = Gtin.Parse("4006381333931");
        var priced = new PromotionEngine().Price(
            [new BasketLine(a, "snacks", 2, M(1.50m)), new BasketLine(b, "snacks", 1, M(2.00m))],
            [new MultiBuy("3for2", "3 for 2", new HashSet<Gtin>(), new HashSet<string> { "snacks" }, Stacking.Exclusive, 3, 2)],
            new DateTime(2026, 11, 23, 12, 0, 0), Eur);

        Assert.Equal([2.10m, 1.40m], priced.LineAmounts);
        Assert.Equal(priced.Total.Amount, priced.LineAmounts.Sum());
    }

    [Fact]
    public void Tax_included_prices_give_the_tax_inside_each_line_and_totals_per_class()
    {
        // 12.00 at 20% holds 2.00 of tax; 2.11 at 5.5% holds 0.11 (0.110000...).
        var table = new TaxTable(FrenchRates);

        var tax = table.Compute([("standard", 12.00m), ("reduced", 2.11m)], Eur);

        Assert.Equal([M(2.00m), M(0.11m)], tax.Lines);
        Assert.Equal([new TaxClassTotal("reduced", 0.055m, M(2.00m), M(0.11m)), new TaxClassTotal("standard", 0.20m, M(10.00m), M(2.00m))], tax.Classes);
        Assert.Equal(M(2.11m), tax.Total);
    }

    [Theory]
    [InlineData(MidpointRounding.ToEven, 0.82)]
    [InlineData(MidpointRounding.AwayFromZero, 0.83)]
    public void Tax_excluded_prices_add_tax_per_line_rounded_by_the_stated_rule(MidpointRounding rounding, double expected)
    {
        // 10.00 at 8.25% is 0.825 exactly: the midpoint rule decides.
        var table = new TaxTable(new Dictionary<string, decimal> { ["standard"] = 0.0825m }, PricesIncludeTax: false, rounding);

        var tax = table.Compute([("standard", 10.00m)], Currency.Parse("USD"));

        Assert.Equal((decimal)expected, tax.Total.Amount);
        Assert.Equal(10.00m, tax.Classes[0].Net.Amount);
    }

    [Fact]
    public void A_line_whose_tax_class_has_no_rate_is_a_configuration_error_that_says_so()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new TaxTable(FrenchRates).Compute([("luxury", 1m)], Eur));

        Assert.Contains("Tax class 'luxury' has no rate", ex.Message, StringComparison.Ordinal);
    }
}
