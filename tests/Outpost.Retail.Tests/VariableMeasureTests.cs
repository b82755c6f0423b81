using Outpost.Retail.Catalog;

namespace Outpost.Retail.Tests;

public sealed class VariableMeasureTests
{
    private static readonly IReadOnlyList<VariableMeasureLayout> Layouts = VariableMeasureLayout.Defaults;

    [Fact]
    public void A_price_embedded_barcode_gives_the_product_and_its_price()
    {
        var scan = VariableMeasureBarcode.TryRead("2100123001996", Layouts);

        Assert.Equal(new VariableMeasureBarcode(Gtin.Parse("2100123000005"), EmbeddedValue.Price, 1.99m), scan);
    }

    [Fact]
    public void A_weight_embedded_barcode_gives_the_product_and_its_weight_in_kg()
    {
        var scan = VariableMeasureBarcode.TryRead("2304567012505", Layouts);

        Assert.Equal(new VariableMeasureBarcode(Gtin.Parse("2304567000007"), EmbeddedValue.Weight, 1.250m), scan);
    }

    [Fact]
    public void An_ordinary_gtin_is_not_a_variable_measure_barcode()
    {
        Assert.Null(VariableMeasureBarcode.TryRead("4006381333931", Layouts));
    }

    [Fact]
    public void A_store_layout_with_four_item_digits_and_a_verifier_digit_reads_the_value_after_it()
    {
        // 22 | 0123 | 7 (price verifier, skipped) | 01995 | check
        var body = "220123701995";
        var layouts = new[] { new VariableMeasureLayout("22", EmbeddedValue.Price, ItemDigits: 4, ValueDigits: 5, VerifierDigit: true) };

        var scan = VariableMeasureBarcode.TryRead(body + Gtin.CheckDigit(body), layouts)!;

        Assert.Equal(19.95m, scan.Amount);
        Assert.Equal("2201230000000"[..12], scan.Product.Value[1..13]);
    }

    [Fact]
    public void A_layout_that_does_not_cover_13_digits_is_refused_with_a_fix()
    {
        var layouts = new[] { new VariableMeasureLayout("21", EmbeddedValue.Price, ItemDigits: 5, ValueDigits: 4) };

        var ex = Assert.Throws<FormatException>(() => VariableMeasureBarcode.TryRead("2100123001996", layouts));

        Assert.Contains("Fix the store's barcode layout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_variable_measure_barcode_with_a_wrong_check_digit_is_refused()
    {
        Assert.Throws<FormatException>(() => VariableMeasureBarcode.TryRead("2100123001997", Layouts));
    }
}
