using System.Globalization;

namespace Outpost.Retail.Catalog;

/// <summary>
/// A scanned GS1 variable-measure barcode (a weighed or price-labelled item): the product it stands for
/// and the price or weight printed into it.
/// </summary>
/// <param name="Product">The catalog GTIN: the prefix and item reference with the value digits zeroed.</param>
/// <param name="Value">Price or weight.</param>
/// <param name="Amount">The embedded price (major units) or weight (kg).</param>
public sealed record VariableMeasureBarcode(Gtin Product, EmbeddedValue Value, decimal Amount)
{
    /// <summary>
    /// Reads a scanned barcode with the store's layouts. Returns null when it is not an in-store barcode
    /// (an ordinary GTIN); throws when it claims to be one but cannot be read.
    /// </summary>
    /// <exception cref="FormatException">Invalid digits, check digit or layout.</exception>
    public static VariableMeasureBarcode? TryRead(string scanned, IReadOnlyList<VariableMeasureLayout> layouts)
    {
        ArgumentNullException.ThrowIfNull(layouts);
        var gtin = Gtin.Parse(scanned);
        var thirteen = gtin.Value[1..];
        if (gtin.Value[0] != '0')
        {
            return null;
        }

        var layout = layouts.FirstOrDefault(l => thirteen.StartsWith(l.Prefix, StringComparison.Ordinal));
        if (layout is null)
        {
            return null;
        }

        if (layout.Length != 13)
        {
            throw new FormatException($"The layout for prefix {layout.Prefix} covers {layout.Length} digits; an in-store barcode has 13. Fix the store's barcode layout.");
        }

        var valueStart = layout.Prefix.Length + layout.ItemDigits + (layout.VerifierDigit ? 1 : 0);
        var digits = thirteen[valueStart..(valueStart + layout.ValueDigits)];
        var amount = decimal.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) / Pow10(layout.ValueDecimals);

        // The catalog lists the item under its barcode with the value (and verifier) digits zeroed.
        var body = thirteen[..(layout.Prefix.Length + layout.ItemDigits)] + new string('0', 12 - layout.Prefix.Length - layout.ItemDigits);
        var product = Gtin.Parse(body + Gtin.CheckDigit(body).ToString(CultureInfo.InvariantCulture));
        return new VariableMeasureBarcode(product, layout.Value, amount);
    }

    private static decimal Pow10(int decimals)
    {
        var result = 1m;
        for (var i = 0; i < decimals; i++)
        {
            result *= 10m;
        }

        return result;
    }
}
