using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Promotions;

/// <summary>Turns a promotion definition (an event payload or a scenario entry) into a promotion the engine runs.</summary>
public static class PromotionDefinitions
{
    /// <summary>The promotion a definition describes.</summary>
    /// <param name="definition">The definition.</param>
    /// <param name="path">Where the definition sits (a JSON path), for error messages.</param>
    /// <param name="currency">The store's currency, for amounts.</param>
    /// <exception cref="FormatException">A field is missing or invalid; the message starts with its path.</exception>
    public static Promotion ToPromotion(PromotionDefinitionV1 definition, string path, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var p = definition;
        if (string.IsNullOrWhiteSpace(p.Id) || string.IsNullOrWhiteSpace(p.Name))
        {
            throw new FormatException($"{path}: a promotion needs an id and a name.");
        }

        var products = (p.Products ?? []).Select((g, i) => Parse(g, $"{path}.products[{i}]")).ToHashSet();
        var categories = (p.Categories ?? []).ToHashSet(StringComparer.Ordinal);
        var stacking = p.Stacking switch
        {
            "exclusive" => Stacking.Exclusive,
            "stackable" => Stacking.Stackable,
            _ => throw new FormatException($"{path}.stacking: '{p.Stacking}' is neither 'exclusive' nor 'stackable'."),
        };
        if (p.To is { } to && p.From is { } from && to <= from)
        {
            throw new FormatException($"{path}.to: {to:s} is not after from ({from:s}).");
        }

        T Need<T>(T? value, string field)
            where T : struct => value ?? throw new FormatException($"{path}.{field}: a {p.Type} promotion needs it.");
        int Positive(int? value, string field) =>
            Need(value, field) is > 0 and var v ? v : throw new FormatException($"{path}.{field}: {value} is not a positive whole number.");
        decimal NonNegative(decimal? value, string field) =>
            Need(value, field) is >= 0 and var v ? v : throw new FormatException($"{path}.{field}: {value} is negative.");
        Promotion promotion = p.Type switch
        {
            "multiBuy" => Positive(p.Buy, "buy") > Need(p.Pay, "pay") && p.Pay >= 0
                ? new MultiBuy(p.Id, p.Name, products, categories, stacking, p.Buy!.Value, p.Pay!.Value, p.Priority)
                : throw new FormatException($"{path}.pay: must be between 0 and buy ({p.Buy}) excluded."),
            "fixedPrice" => new FixedPriceBundle(p.Id, p.Name, products, categories, stacking, Positive(p.Quantity, "quantity"), new Money(NonNegative(p.Price, "price"), currency), p.Priority),
            "percentOff" => Need(p.Percent, "percent") is > 0 and <= 100
                ? new PercentOff(p.Id, p.Name, products, categories, stacking, p.Percent!.Value, p.Priority)
                : throw new FormatException($"{path}.percent: {p.Percent} is not between 0 and 100."),
            "basketThreshold" => new BasketThreshold(p.Id, p.Name, new Money(NonNegative(p.Spend, "spend"), currency), new Money(NonNegative(p.Off, "off"), currency), p.Priority),
            "amountOff" => new AmountOff(p.Id, p.Name, products, categories, stacking, new Money(NonNegative(p.Amount, "amount"), currency), p.Priority),
            "buyGet" => p.RewardPercent is > 0 and <= 100
                ? new BuyGet(p.Id, p.Name, products, categories, stacking, Positive(p.Buy, "buy"),
                    (p.RewardProducts ?? []).Select((g, i) => Parse(g, $"{path}.rewardProducts[{i}]")).ToHashSet(),
                    (p.RewardCategories ?? []).ToHashSet(StringComparer.Ordinal), Positive(p.Get, "get"), p.RewardPercent, p.Priority)
                : throw new FormatException($"{path}.rewardPercent: {p.RewardPercent} is not between 0 and 100."),
            _ => throw new FormatException($"{path}.type: '{p.Type}' is not a promotion type; use multiBuy, fixedPrice, percentOff, amountOff, buyGet or basketThreshold."),
        };
        var audience = p.Audience is { } a
            ? new Audience((a.Members ?? []).ToHashSet(StringComparer.Ordinal), (a.Segments ?? []).ToHashSet(StringComparer.Ordinal))
            : null;
        return promotion with { FromLocal = p.From, ToLocal = p.To, Audience = audience };
    }

    private static Gtin Parse(string? text, string path) =>
        Gtin.TryParse(text, out var gtin, out var problem) ? gtin : throw new FormatException($"{path}: {problem}");
}
