using Outpost.Retail.Pricing;

namespace Outpost.Retail.Tests;

public sealed class MoneyTests
{
    [Theory]
    [InlineData(2.345, MidpointRounding.ToEven, 2.34)]
    [InlineData(2.345, MidpointRounding.AwayFromZero, 2.35)]
    [InlineData(2.355, MidpointRounding.ToEven, 2.36)]
    [InlineData(-2.345, MidpointRounding.AwayFromZero, -2.35)]
    public void Rounding_to_cents_follows_the_stated_midpoint_rule(double amount, MidpointRounding rounding, double expected)
    {
        var money = new Money((decimal)amount, Currency.Eur);

        Assert.Equal((decimal)expected, money.Round(rounding).Amount);
    }

    [Fact]
    public void Rounding_follows_the_currencys_minor_units()
    {
        Assert.Equal(1235m, new Money(1234.5m, Currency.Parse("JPY")).Round(MidpointRounding.AwayFromZero).Amount);
        Assert.Equal(1.234m, new Money(1.2345m, Currency.Parse("KWD")).Round(MidpointRounding.ToEven).Amount);
    }

    [Fact]
    public void Adding_different_currencies_is_a_bug_that_says_so()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new Money(1m, Currency.Eur) + new Money(1m, Currency.Parse("USD")));

        Assert.Contains("different currencies", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arithmetic_keeps_full_decimal_precision_until_rounded()
    {
        var third = new Money(10m, Currency.Eur) * (1m / 3m);

        Assert.Equal("3.33 EUR", third.Round(MidpointRounding.ToEven).ToString());
        Assert.NotEqual(3.33m, third.Amount);
    }

    [Fact]
    public void An_unknown_currency_code_is_refused()
    {
        Assert.Throws<FormatException>(() => Currency.Parse("EURO"));
    }
}
