namespace Outpost.Retail.Catalog;

/// <summary>What the value digits of a variable-measure barcode carry.</summary>
public enum EmbeddedValue
{
    /// <summary>The price of the item, in the currency's minor units scaled by <see cref="VariableMeasureLayout.ValueDecimals"/>.</summary>
    Price = 0,

    /// <summary>The weight in kilograms, scaled by <see cref="VariableMeasureLayout.ValueDecimals"/> (3: grams).</summary>
    Weight = 1,
}

/// <summary>
/// How a store reads GS1 restricted-circulation (in-store) barcodes with a given prefix: after the prefix,
/// <see cref="ItemDigits"/> of item reference, optionally one price-verifier digit (skipped, not checked),
/// then <see cref="ValueDigits"/> of value, then the barcode's own check digit. Layouts vary by country and
/// retailer, so each store configures its own.
/// </summary>
/// <param name="Prefix">The prefix of the 13-digit form: <c>02</c> or <c>20</c>–<c>29</c>.</param>
/// <param name="Value">Price or weight.</param>
/// <param name="ItemDigits">Digits of item reference (4 or 5 usually).</param>
/// <param name="ValueDigits">Digits of value (4 or 5 usually).</param>
/// <param name="ValueDecimals">Decimals of the value: 2 for a price, 3 for a weight in kg.</param>
/// <param name="VerifierDigit">Whether one price-verifier digit stands between item and value.</param>
public sealed record VariableMeasureLayout(string Prefix, EmbeddedValue Value, int ItemDigits = 5, int ValueDigits = 5, int ValueDecimals = 2, bool VerifierDigit = false)
{
    /// <summary>A common default: 21–22 price-embedded, 23–24 weight-embedded (grams), 02 price-embedded (UPC-A).</summary>
    public static IReadOnlyList<VariableMeasureLayout> Defaults { get; } =
    [
        new("02", EmbeddedValue.Price),
        new("21", EmbeddedValue.Price),
        new("22", EmbeddedValue.Price),
        new("23", EmbeddedValue.Weight, ValueDecimals: 3),
        new("24", EmbeddedValue.Weight, ValueDecimals: 3),
    ];

    /// <summary>Digits this layout occupies in the 13-digit form; must be 13.</summary>
    public int Length => Prefix.Length + ItemDigits + (VerifierDigit ? 1 : 0) + ValueDigits + 1;
}
