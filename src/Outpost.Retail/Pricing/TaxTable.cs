namespace Outpost.Retail.Pricing;

/// <summary>
/// A store's tax rates by class and whether its prices include tax (VAT style, the default) or not (sales tax
/// style). Tax is computed per line and rounded per line with the stated midpoint rule.
/// </summary>
/// <param name="Rates">Rate per tax class, for example <c>standard</c> = 0.20.</param>
/// <param name="PricesIncludeTax">True when shelf prices include tax.</param>
/// <param name="Rounding">How each line's tax is rounded.</param>
public sealed record TaxTable(IReadOnlyDictionary<string, decimal> Rates, bool PricesIncludeTax = true, MidpointRounding Rounding = MidpointRounding.ToEven)
{
    /// <summary>The tax of each line and the totals per class.</summary>
    /// <exception cref="InvalidOperationException">A line's tax class has no rate in this table.</exception>
    public TaxBreakdown Compute(IReadOnlyList<(string TaxClass, decimal Amount)> lines, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var perLine = new List<Money>(lines.Count);
        var totals = new SortedDictionary<string, (decimal Base, decimal Tax)>(StringComparer.Ordinal);
        foreach (var (taxClass, amount) in lines)
        {
            if (!Rates.TryGetValue(taxClass, out var rate))
            {
                throw new InvalidOperationException($"Tax class '{taxClass}' has no rate in the store's tax table.");
            }

            var gross = Math.Round(amount, currency.Decimals, Rounding);
            var tax = PricesIncludeTax
                ? Math.Round(gross * rate / (1 + rate), currency.Decimals, Rounding)
                : Math.Round(gross * rate, currency.Decimals, Rounding);
            perLine.Add(new Money(tax, currency));
            var net = PricesIncludeTax ? gross - tax : gross;
            totals[taxClass] = totals.TryGetValue(taxClass, out var sum) ? (sum.Base + net, sum.Tax + tax) : (net, tax);
        }

        var classes = totals.Select(t => new TaxClassTotal(t.Key, Rates[t.Key], new Money(t.Value.Base, currency), new Money(t.Value.Tax, currency))).ToList();
        return new TaxBreakdown(perLine, classes, new Money(classes.Sum(c => c.Tax.Amount), currency));
    }
}

/// <summary>One tax class on the receipt.</summary>
/// <param name="TaxClass">The class.</param>
/// <param name="Rate">Its rate.</param>
/// <param name="Net">What the lines of the class cost before tax.</param>
/// <param name="Tax">Their tax.</param>
public sealed record TaxClassTotal(string TaxClass, decimal Rate, Money Net, Money Tax);

/// <summary>Tax per line, per class and in all.</summary>
/// <param name="Lines">Each line's tax, in input order.</param>
/// <param name="Classes">Totals per class, by class name.</param>
/// <param name="Total">All tax.</param>
public sealed record TaxBreakdown(IReadOnlyList<Money> Lines, IReadOnlyList<TaxClassTotal> Classes, Money Total);
