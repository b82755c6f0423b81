using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Promotions;

/// <summary>
/// Prices a basket with the promotions valid at a store-local moment, best for the customer and the same
/// whatever the scan order.
/// </summary>
/// <remarks>
/// The basket is turned into units (a weighed line is one unit) ordered by price (highest first), then GTIN:
/// never by scan order. Exclusive promotions claim units: every order of the exclusive promotions that
/// target the basket is tried (each claiming, greedily, the units that save most), and the order saving the
/// customer most wins; ties go to the order whose promotion ids come first. With more than
/// <see cref="MaxExhaustive"/> such promotions, they are tried in priority order only. Stackable promotions
/// then apply, in priority order, to units no exclusive promotion used, each on the price the previous left.
/// A basket threshold applies last, to the total after item promotions. Savings are rounded per promotion
/// with the stated midpoint rule.
/// </remarks>
public sealed class PromotionEngine(MidpointRounding rounding = MidpointRounding.ToEven)
{
    /// <summary>Up to this many exclusive promotions in one basket, every order is tried (6! = 720).</summary>
    public const int MaxExhaustive = 6;

    /// <summary>Prices a basket against an index: only the promotions touching its products are considered.</summary>
    public PricedBasket Price(IReadOnlyList<BasketLine> lines, PromotionIndex promotions, DateTime local, Currency currency, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(promotions);
        return Price(lines, promotions.For(lines), local, currency, customer);
    }

    /// <summary>Prices a basket.</summary>
    public PricedBasket Price(IReadOnlyList<BasketLine> lines, IReadOnlyList<Promotion> promotions, DateTime local, Currency currency, Customer? customer = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(promotions);
        var units = Units(lines, currency);
        var subtotal = new Money(units.Sum(u => u.Price), currency).Round(rounding);
        var valid = promotions.Where(p => p.ValidAt(local) && p.IsFor(customer)).OrderBy(p => p.Priority).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
        var exclusive = valid.Where(p => p.Stacking == Stacking.Exclusive && units.Any(u => Touches(p, u))).ToList();

        (decimal Saving, List<Application> Applications) best = (-1, []);
        foreach (var order in Orders(exclusive))
        {
            var claimed = new bool[units.Count];
            var applications = new List<Application>();
            foreach (var promotion in order)
            {
                if (Apply(promotion, units, claimed, currency) is { } application)
                {
                    applications.Add(application);
                }
            }

            var saving = applications.Sum(a => a.Saving);
            if (saving > best.Saving)
            {
                best = (saving, applications);
            }
        }

        var used = new bool[units.Count];
        foreach (var application in best.Applications)
        {
            application.Units.ForEach(i => used[i] = true);
        }

        var applied = best.Applications.ToList();
        var prices = units.Select(u => u.Price).ToArray();
        foreach (var application in applied)
        {
            Spread(application.Saving, application.Units, prices);
        }

        foreach (var promotion in valid.Where(p => p.Stacking == Stacking.Stackable && p is not BasketThreshold))
        {
            if (Stack(promotion, units, used, prices) is { } application)
            {
                applied.Add(application);
            }
        }

        var afterItems = new Money(units.Sum(u => u.Price) - applied.Sum(a => a.Saving), currency);
        foreach (var threshold in valid.OfType<BasketThreshold>())
        {
            if (afterItems >= threshold.Spend)
            {
                var off = Math.Min(threshold.Off.Amount, afterItems.Amount);
                applied.Add(new Application(threshold, [], off));
                Spread(off, [.. Enumerable.Range(0, units.Count)], prices);
                afterItems -= threshold.Off;
            }
        }

        var explained = applied.Select(a => new AppliedPromotion(a.Promotion.Id, a.Promotion.Name,
            [.. a.Units.GroupBy(i => units[i].Gtin).OrderBy(g => g.Key.Value, StringComparer.Ordinal).Select(g => new UnitsUsed(g.Key, g.Count()))],
            new Money(a.Saving, currency).Round(rounding))).ToList();
        var total = subtotal - new Money(explained.Sum(a => a.Saving.Amount), currency);
        var lineAmounts = new decimal[lines.Count];
        for (var i = 0; i < units.Count; i++)
        {
            lineAmounts[units[i].Line] += prices[i];
        }

        return new PricedBasket(subtotal, explained, total, lineAmounts);
    }

    private static List<Unit> Units(IReadOnlyList<BasketLine> lines, Currency currency)
    {
        var units = new List<Unit>();
        for (var index = 0; index < lines.Count; index++)
        {
            var line = lines[index];
            if (line.UnitPrice.Currency != currency)
            {
                throw new InvalidOperationException($"Line {line.Gtin} is priced in {line.UnitPrice.Currency}, the basket in {currency}.");
            }

            if (line.Weighed)
            {
                units.Add(new Unit(line.Gtin, line.Category, line.UnitPrice.Amount * line.Quantity, Weighed: true, index));
                continue;
            }

            if (line.Quantity != decimal.Truncate(line.Quantity) || line.Quantity < 0)
            {
                throw new ArgumentException($"Line {line.Gtin} has quantity {line.Quantity}: a counted item takes a whole number of units.", nameof(lines));
            }

            for (var i = 0; i < (int)line.Quantity; i++)
            {
                units.Add(new Unit(line.Gtin, line.Category, line.UnitPrice.Amount, Weighed: false, index));
            }
        }

        // The canonical order: highest price first, then GTIN. Scan order never matters.
        return [.. units.OrderByDescending(u => u.Price).ThenBy(u => u.Gtin.Value, StringComparer.Ordinal).ThenBy(u => u.Weighed)];
    }

    private static IEnumerable<List<Promotion>> Orders(List<Promotion> promotions)
    {
        if (promotions.Count > MaxExhaustive)
        {
            yield return promotions;
            yield break;
        }

        foreach (var order in Permute(promotions.OrderBy(p => p.Id, StringComparer.Ordinal).ToList(), 0))
        {
            yield return order;
        }
    }

    private static IEnumerable<List<Promotion>> Permute(List<Promotion> items, int from)
    {
        if (from >= items.Count - 1)
        {
            yield return [.. items];
            yield break;
        }

        for (var i = from; i < items.Count; i++)
        {
            (items[from], items[i]) = (items[i], items[from]);
            foreach (var order in Permute(items, from + 1))
            {
                yield return order;
            }

            (items[from], items[i]) = (items[i], items[from]);
        }
    }

    /// <summary>An exclusive promotion claims the unclaimed units it can use, most saving first.</summary>
    private static Application? Apply(Promotion promotion, List<Unit> units, bool[] claimed, Currency currency)
    {
        var eligible = Eligible(promotion, units, claimed);
        var (used, saving) = Evaluate(promotion, units, eligible, i => units[i].Price, currency);
        if (used.Count == 0 || saving <= 0)
        {
            return null;
        }

        used.ForEach(i => claimed[i] = true);
        return new Application(promotion, used, saving);
    }

    /// <summary>A stackable promotion applies to the units no exclusive one used, on their current price.</summary>
    private static Application? Stack(Promotion promotion, List<Unit> units, bool[] usedByExclusive, decimal[] prices)
    {
        var eligible = Eligible(promotion, units, usedByExclusive);
        var (used, saving) = Evaluate(promotion, units, eligible, i => prices[i], null);
        if (used.Count == 0 || saving <= 0)
        {
            return null;
        }

        // A later stackable promotion sees the reduced price.
        Spread(saving, used, prices);
        return new Application(promotion, used, saving);
    }

    private static (List<int> Used, decimal Saving) Evaluate(Promotion promotion, List<Unit> units, List<int> eligible, Func<int, decimal> price, Currency? currency)
    {
        switch (promotion)
        {
            case MultiBuy multi:
            {
                // Units are most expensive first: each group of Buy takes the next units, its cheapest Buy-Pay are free.
                var counted = eligible.Where(i => !units[i].Weighed).ToList();
                var groups = counted.Count / multi.Buy;
                var used = counted.Take(groups * multi.Buy).ToList();
                var saving = Enumerable.Range(0, groups).Sum(g => used.Skip(g * multi.Buy).Take(multi.Buy).OrderBy(price).Take(multi.Buy - multi.Pay).Sum(price));
                return (used, saving);
            }

            case FixedPriceBundle bundle:
            {
                if (currency is { } c && bundle.Price.Currency != c)
                {
                    throw new InvalidOperationException($"Promotion {bundle.Id} is in {bundle.Price.Currency}, the basket in {c}.");
                }

                var counted = eligible.Where(i => !units[i].Weighed).ToList();
                var used = new List<int>();
                var saving = 0m;
                for (var g = 0; g + bundle.Quantity <= counted.Count; g += bundle.Quantity)
                {
                    var group = counted.Skip(g).Take(bundle.Quantity).ToList();
                    var cost = group.Sum(price);
                    if (cost <= bundle.Price.Amount)
                    {
                        break; // cheaper units follow; bundling them would cost the customer more
                    }

                    used.AddRange(group);
                    saving += cost - bundle.Price.Amount;
                }

                return (used, saving);
            }

            case PercentOff percent:
                return (eligible, eligible.Sum(i => price(i) * percent.Percent / 100m));

            case AmountOff amount:
                return (eligible, eligible.Sum(i => Math.Min(price(i), units[i].Weighed ? 0m : amount.Amount.Amount)));

            case BuyGet buyGet:
            {
                // Rewards are the most expensive reward units; purchases the cheapest other qualifying units.
                var used = new List<int>();
                var saving = 0m;
                var free = eligible.Where(i => !units[i].Weighed).ToList();
                while (true)
                {
                    var rewards = free.Where(i => buyGet.Rewards(units[i].Gtin, units[i].Category)).Take(buyGet.Get).ToList();
                    var purchases = free.Where(i => !rewards.Contains(i) && buyGet.Targets(units[i].Gtin, units[i].Category))
                        .OrderBy(price).ThenByDescending(i => i).Take(buyGet.Buy).ToList();
                    if (rewards.Count < buyGet.Get || purchases.Count < buyGet.Buy)
                    {
                        break;
                    }

                    saving += rewards.Sum(price) * buyGet.RewardPercent / 100m;
                    used.AddRange(purchases);
                    used.AddRange(rewards);
                    free.RemoveAll(i => purchases.Contains(i) || rewards.Contains(i));
                }

                return (used, saving);
            }

            default:
                return ([], 0m);
        }
    }

    private static List<int> Eligible(Promotion promotion, List<Unit> units, bool[] taken)
    {
        List<int>? eligible = null;
        for (var i = 0; i < units.Count; i++)
        {
            if (!taken[i] && Touches(promotion, units[i]))
            {
                (eligible ??= []).Add(i);
            }
        }

        return eligible ?? [];
    }

    /// <summary>Takes a saving off the units it was made on, in proportion to what each still costs.</summary>
    private static void Spread(decimal saving, List<int> used, decimal[] prices)
    {
        var paid = used.Sum(i => prices[i]);
        foreach (var i in used)
        {
            prices[i] -= paid == 0 ? 0 : saving * prices[i] / paid;
        }
    }

    private static bool Touches(Promotion promotion, Unit unit) =>
        promotion.Targets(unit.Gtin, unit.Category) || (promotion is BuyGet buyGet && buyGet.Rewards(unit.Gtin, unit.Category));

    private sealed record Unit(Gtin Gtin, string Category, decimal Price, bool Weighed, int Line);

    private sealed record Application(Promotion Promotion, List<int> Units, decimal Saving);
}
