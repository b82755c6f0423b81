using System.Globalization;
using BenchmarkDotNet.Attributes;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Bench;

/// <summary>
/// Pricing a 30-line basket against 2,000 active promotions over a catalog of 100,000 products (prices looked
/// up in memory), and the same with 20,000 more promotions on products the basket does not hold: the second
/// must allocate no more than the first.
/// </summary>
[MemoryDiagnoser]
public class PricingBenchmarks
{
    private const int Products = 100_000;
    private static readonly Currency Eur = Currency.Eur;
    private readonly DateTime _now = new(2026, 11, 23, 12, 0, 0);
    private readonly PromotionEngine _engine = new();
    private Dictionary<Gtin, (string Category, Money Price)> _catalog = [];
    private Gtin[] _gtins = [];
    private PromotionIndex _active = null!;
    private PromotionIndex _withInactive = null!;
    private (Gtin Gtin, int Quantity)[] _basket = [];

    /// <summary>How many of the 2,000 promotions target the basket's products (2 or 10 per line).</summary>
    [Params(60, 300)]
    public int Touching { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _gtins = [.. Enumerable.Range(0, Products).Select(i =>
        {
            var body = "40" + i.ToString("D10", CultureInfo.InvariantCulture);
            return Gtin.Parse(body + Gtin.CheckDigit(body).ToString(CultureInfo.InvariantCulture));
        })];
        _catalog = _gtins.Select((g, i) => (g, i)).ToDictionary(x => x.g, x => ($"category-{x.i % 500}", new Money(0.49m + (x.i % 400) / 100m, Eur)));

        // The basket's 30 products are among the promotions' targets, so promotions really apply.
        _basket = [.. Enumerable.Range(0, 30).Select(i => (_gtins[i * 3_000], 1 + (i % 4)))];
        var active = Promotions(2_000, random, i => i < Touching ? _basket[i % 30].Gtin : _gtins[30 + random.Next(Products - 30)], "active");
        _active = new PromotionIndex(active);
        var inactive = Promotions(20_000, random, _ => _gtins[90_000 + random.Next(9_000)], "inactive");
        _withInactive = new PromotionIndex(active.Concat(inactive));
    }

    private static List<Promotion> Promotions(int count, Random random, Func<int, Gtin> target, string prefix)
    {
        var promotions = new List<Promotion>(count);
        for (var i = 0; i < count; i++)
        {
            var products = new HashSet<Gtin> { target(i), target(i + 1) };
            var stacking = i % 5 == 0 ? Stacking.Stackable : Stacking.Exclusive;
            var id = $"{prefix}-{i}";
            promotions.Add((i % 4) switch
            {
                0 => new MultiBuy(id, "3 for 2", products, new HashSet<string>(), stacking, 3, 2),
                1 => new PercentOff(id, "10% off", products, new HashSet<string>(), stacking, 10m),
                2 => new FixedPriceBundle(id, "2 for a price", products, new HashSet<string>(), stacking, 2, new Money(3.00m, Eur)),
                _ => new AmountOff(id, "0.20 off", products, new HashSet<string>(), Stacking.Stackable, new Money(0.20m, Eur)),
            });
        }

        return promotions;
    }

    private BasketLine[] Lines() =>
        [.. _basket.Select(b => _catalog[b.Gtin] is var p ? new BasketLine(b.Gtin, p.Category, b.Quantity, p.Price) : default!)];

    [Benchmark(Baseline = true, Description = "30 lines, 2,000 promotions, 100,000 products")]
    public PricedBasket ThirtyLines() => _engine.Price(Lines(), _active, _now, Eur);

    [Benchmark(Description = "same, plus 20,000 promotions elsewhere")]
    public PricedBasket ThirtyLinesWithInactive() => _engine.Price(Lines(), _withInactive, _now, Eur);
}
