using Outpost.Retail.Catalog;

namespace Outpost.Retail.Promotions;

/// <summary>
/// A store's promotions indexed by the products and categories they target, built once when they change.
/// Pricing a basket looks only at the promotions that touch its products, so thousands of promotions on other
/// products cost nothing per basket.
/// </summary>
public sealed class PromotionIndex
{
    private readonly Dictionary<Gtin, List<Promotion>> _byProduct = [];
    private readonly Dictionary<string, List<Promotion>> _byCategory = new(StringComparer.Ordinal);
    private readonly List<Promotion> _basketWide = [];
    private readonly List<Promotion> _all = [];

    /// <summary>Every promotion indexed.</summary>
    public IReadOnlyList<Promotion> All => _all;

    /// <summary>Indexes a set of promotions.</summary>
    public PromotionIndex(IEnumerable<Promotion> promotions)
    {
        ArgumentNullException.ThrowIfNull(promotions);
        foreach (var promotion in promotions)
        {
            Count++;
            _all.Add(promotion);
            if (promotion is BasketThreshold)
            {
                _basketWide.Add(promotion);
                continue;
            }

            var products = promotion.Products.AsEnumerable();
            var categories = promotion.Categories.AsEnumerable();
            if (promotion is BuyGet buyGet)
            {
                products = products.Concat(buyGet.RewardProducts);
                categories = categories.Concat(buyGet.RewardCategories);
            }

            foreach (var gtin in products.Distinct())
            {
                Add(_byProduct, gtin, promotion);
            }

            foreach (var category in categories.Distinct(StringComparer.Ordinal))
            {
                Add(_byCategory, category, promotion);
            }
        }
    }

    /// <summary>How many promotions the index holds.</summary>
    public int Count { get; }

    /// <summary>The promotions that touch any of the lines, and every basket-wide one; each once.</summary>
    public IReadOnlyList<Promotion> For(IReadOnlyList<BasketLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var found = new HashSet<Promotion>(ReferenceEqualityComparer.Instance);
        var result = new List<Promotion>();
        foreach (var line in lines)
        {
            AddAll(_byProduct.GetValueOrDefault(line.Gtin), found, result);
            AddAll(_byCategory.GetValueOrDefault(line.Category), found, result);
        }

        AddAll(_basketWide, found, result);
        return result;
    }

    private static void AddAll(List<Promotion>? promotions, HashSet<Promotion> found, List<Promotion> result)
    {
        if (promotions is null)
        {
            return;
        }

        foreach (var promotion in promotions)
        {
            if (found.Add(promotion))
            {
                result.Add(promotion);
            }
        }
    }

    private static void Add<TKey>(Dictionary<TKey, List<Promotion>> index, TKey key, Promotion promotion)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = [];
        }

        list.Add(promotion);
    }
}
