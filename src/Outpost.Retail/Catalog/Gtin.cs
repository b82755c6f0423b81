using System.Diagnostics.CodeAnalysis;

namespace Outpost.Retail.Catalog;

/// <summary>
/// A GS1 Global Trade Item Number: GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13) or GTIN-14, with a valid check
/// digit. Held as its 14-digit form, so <c>012345678905</c> (UPC-A) and <c>0012345678905</c> (EAN-13)
/// are the same product.
/// </summary>
public readonly record struct Gtin
{
    private Gtin(string fourteen) => Value = fourteen;

    /// <summary>The 14-digit form, left-padded with zeros.</summary>
    public string Value { get; }

    /// <summary>Parses 8, 12, 13 or 14 digits with a valid check digit.</summary>
    /// <exception cref="FormatException">The text says what is wrong.</exception>
    public static Gtin Parse(string text) => TryParse(text, out var gtin, out var problem) ? gtin : throw new FormatException(problem);

    /// <summary>Parses, returning false for anything that is not a valid GTIN.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Gtin gtin) => TryParse(text, out gtin, out _);

    /// <summary>Parses, saying what is wrong when it is not a valid GTIN.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Gtin gtin, out string problem)
    {
        gtin = default;
        if (string.IsNullOrEmpty(text) || !text.All(char.IsAsciiDigit))
        {
            problem = $"'{text}' is not a GTIN: it must be digits only.";
            return false;
        }

        if (text.Length is not (8 or 12 or 13 or 14))
        {
            problem = $"'{text}' has {text.Length} digits: a GTIN has 8, 12, 13 or 14.";
            return false;
        }

        var expected = CheckDigit(text.AsSpan(0, text.Length - 1));
        if (text[^1] - '0' != expected)
        {
            problem = $"'{text}' has check digit {text[^1]}, but its digits give {expected}.";
            return false;
        }

        problem = "";
        gtin = new Gtin(text.PadLeft(14, '0'));
        return true;
    }

    /// <summary>The GS1 check digit of the digits before it (mod 10, weights 3 and 1 from the right).</summary>
    public static int CheckDigit(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var digit = digits[digits.Length - 1 - i] - '0';
            sum += i % 2 == 0 ? digit * 3 : digit;
        }

        return (10 - (sum % 10)) % 10;
    }

    /// <summary>The shortest standard form: GTIN-8, GTIN-13 (or GTIN-12 when it starts with 0), or GTIN-14.</summary>
    public string ShortForm => Value.StartsWith("000000", StringComparison.Ordinal) ? Value[6..] : Value[0] == '0' ? Value[1..] : Value;

    /// <inheritdoc />
    public override string ToString() => Value ?? "";
}
