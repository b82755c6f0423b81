using System.Diagnostics.CodeAnalysis;

namespace Outpost.Retail.Pricing;

/// <summary>An ISO 4217 currency: its three-letter code and how many minor units (decimals) it has.</summary>
public readonly record struct Currency
{
    private static readonly Dictionary<string, int> MinorUnits = new(StringComparer.Ordinal)
    {
        ["EUR"] = 2, ["USD"] = 2, ["GBP"] = 2, ["CHF"] = 2, ["SEK"] = 2, ["NOK"] = 2, ["DKK"] = 2, ["PLN"] = 2, ["CZK"] = 2,
        ["CAD"] = 2, ["AUD"] = 2, ["NZD"] = 2, ["MXN"] = 2, ["BRL"] = 2, ["ZAR"] = 2, ["INR"] = 2, ["CNY"] = 2, ["HUF"] = 2,
        ["JPY"] = 0, ["KRW"] = 0, ["ISK"] = 0, ["CLP"] = 0, ["KWD"] = 3, ["BHD"] = 3, ["TND"] = 3,
    };

    private Currency(string code, int decimals)
    {
        Code = code;
        Decimals = decimals;
    }

    /// <summary>The three-letter code, for example <c>EUR</c>.</summary>
    public string Code { get; }

    /// <summary>Minor units: 2 for EUR, 0 for JPY, 3 for KWD.</summary>
    public int Decimals { get; }

    /// <summary>Euro.</summary>
    public static Currency Eur { get; } = Parse("EUR");

    /// <summary>Parses a known ISO 4217 code.</summary>
    /// <exception cref="FormatException">Not a known code.</exception>
    public static Currency Parse(string code) =>
        TryParse(code, out var currency) ? currency : throw new FormatException($"'{code}' is not a known ISO 4217 currency code (for example EUR, USD, GBP, JPY).");

    /// <summary>Parses a known ISO 4217 code, returning false otherwise.</summary>
    public static bool TryParse([NotNullWhen(true)] string? code, out Currency currency)
    {
        currency = default;
        if (code is null || !MinorUnits.TryGetValue(code, out var decimals))
        {
            return false;
        }

        currency = new Currency(code, decimals);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Code ?? "";
}
