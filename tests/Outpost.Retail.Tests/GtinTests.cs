using FsCheck;
using FsCheck.Fluent;
using Outpost.Retail.Catalog;

namespace Outpost.Retail.Tests;

public sealed class GtinTests
{
    // Check digits worked out independently of the code under test.
    [Theory]
    [InlineData("96385074", "00000096385074")]        // GTIN-8
    [InlineData("036000291452", "00036000291452")]    // GTIN-12 (UPC-A)
    [InlineData("4006381333931", "04006381333931")]   // GTIN-13 (EAN-13)
    [InlineData("10012345678902", "10012345678902")]  // GTIN-14
    public void Valid_gtins_of_every_length_parse_to_their_14_digit_form(string text, string fourteen)
    {
        Assert.Equal(fourteen, Gtin.Parse(text).Value);
    }

    [Fact]
    public void A_upc_a_and_its_ean_13_form_are_the_same_product()
    {
        Assert.Equal(Gtin.Parse("036000291452"), Gtin.Parse("0036000291452"));
    }

    [Theory]
    [InlineData("4006381333932", "check digit 2, but its digits give 1")]
    [InlineData("96385075", "check digit 5, but its digits give 4")]
    [InlineData("40063813339", "has 11 digits")]
    [InlineData("40063813339X1", "digits only")]
    [InlineData("", "digits only")]
    public void Invalid_gtins_are_refused_saying_why(string text, string because)
    {
        var ex = Assert.Throws<FormatException>(() => Gtin.Parse(text));

        Assert.Contains(because, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Property_a_computed_check_digit_validates_and_any_single_digit_change_is_caught()
    {
        var bodies = Gen.Choose(0, 9).ArrayOf(12).ToArbitrary();
        Prop.ForAll(bodies, Gen.Choose(0, 11).ToArbitrary(), Gen.Choose(1, 9).ToArbitrary(), (digits, position, delta) =>
        {
            var body = string.Concat(digits);
            var valid = body + Gtin.CheckDigit(body);
            var changed = digits.ToArray();
            changed[position] = (changed[position] + delta) % 10;
            var wrong = string.Concat(changed) + valid[^1];
            return Gtin.TryParse(valid, out _) && !Gtin.TryParse(wrong, out _);
        }).QuickCheckThrowOnFailure();
    }
}
