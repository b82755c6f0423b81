using System.Globalization;

namespace Outpost.Retail.Pricing;

/// <summary>
/// An amount of a currency. Arithmetic keeps full decimal precision; <see cref="Round"/> states its
/// <see cref="MidpointRounding"/> every time, and mixing currencies is a bug that throws.
/// </summary>
public readonly record struct Money(decimal Amount, Currency Currency) : IComparable<Money>
{
    /// <summary>Zero of a currency.</summary>
    public static Money Zero(Currency currency) => new(0m, currency);

    /// <summary>Rounds to the currency's minor units with the stated midpoint rule.</summary>
    public Money Round(MidpointRounding rounding) => this with { Amount = Math.Round(Amount, Currency.Decimals, rounding) };

    /// <summary>Adds two amounts of one currency.</summary>
    public static Money operator +(Money left, Money right) => new(left.Amount + right.Same(left).Amount, left.Currency);

    /// <summary>Subtracts two amounts of one currency.</summary>
    public static Money operator -(Money left, Money right) => new(left.Amount - right.Same(left).Amount, left.Currency);

    /// <summary>Multiplies by a quantity or a weight.</summary>
    public static Money operator *(Money money, decimal factor) => money with { Amount = money.Amount * factor };

    /// <summary>Negates.</summary>
    public static Money operator -(Money money) => money with { Amount = -money.Amount };

    /// <summary>Orders amounts of one currency.</summary>
    public static bool operator <(Money left, Money right) => left.Amount < right.Same(left).Amount;

    /// <summary>Orders amounts of one currency.</summary>
    public static bool operator >(Money left, Money right) => left.Amount > right.Same(left).Amount;

    /// <summary>Orders amounts of one currency.</summary>
    public static bool operator <=(Money left, Money right) => left.Amount <= right.Same(left).Amount;

    /// <summary>Orders amounts of one currency.</summary>
    public static bool operator >=(Money left, Money right) => left.Amount >= right.Same(left).Amount;

    /// <summary>Adds (for languages without operators).</summary>
    public static Money Add(Money left, Money right) => left + right;

    /// <summary>Subtracts.</summary>
    public static Money Subtract(Money left, Money right) => left - right;

    /// <summary>Multiplies.</summary>
    public static Money Multiply(Money money, decimal factor) => money * factor;

    /// <summary>Negates.</summary>
    public static Money Negate(Money money) => -money;

    /// <inheritdoc />
    public int CompareTo(Money other) => Amount.CompareTo(other.Same(this).Amount);

    /// <summary>The amount with the currency's decimals and its code, for example <c>3.50 EUR</c>.</summary>
    public override string ToString() =>
        Amount.ToString("F" + Currency.Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + " " + Currency.Code;

    private Money Same(Money other) =>
        Currency == other.Currency ? this : throw new InvalidOperationException($"Cannot combine {this} with {other}: different currencies.");
}
