using FsCheck;
using FsCheck.Fluent;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

public sealed class PromotionEngineTests
{
    private static readonly Currency Eur = Currency.Eur;
    private static readonly Gtin A = Gtin.Parse("96385074");        // snacks, 1.50
    private static readonly Gtin B = Gtin.Parse("4006381333931");   // snacks, 2.00
    private static readonly Gtin C = Gtin.Parse("036000291452");    // dairy, 0.90
    private static readonly Gtin Apples = Gtin.Parse("2304567000007"); // fruit, 2.49 a kg
    private static readonly DateTime Now = new(2026, 11, 23, 12, 0, 0);
    private static readonly PromotionEngine Engine = new(MidpointRounding.ToEven);

    private static Money M(decimal amount) => new(amount, Eur);

    private static BasketLine Line(Gtin gtin, decimal quantity) => gtin == A ? new(A, "snacks", quantity, M(1.50m))
        : gtin == B ? new(B, "snacks", quantity, M(2.00m))
        : gtin == C ? new(C, "dairy", quantity, M(0.90m))
        : new(Apples, "fruit", quantity, M(2.49m), Weighed: true);

    private static HashSet<Gtin> Products(params Gtin[] gtins) => [.. gtins];

    private static HashSet<string> Categories(params string[] names) => [.. names];

    private static MultiBuy ThreeForTwo(string id = "3for2-A", Stacking stacking = Stacking.Exclusive, HashSet<Gtin>? products = null, HashSet<string>? categories = null) =>
        new(id, "3 for 2", products ?? Products(A), categories ?? [], stacking, Buy: 3, Pay: 2);

    private static PercentOff Percent(string id, decimal percent, Stacking stacking, HashSet<Gtin>? products = null, HashSet<string>? categories = null, int priority = 100) =>
        new(id, $"{percent}% off", products ?? [], categories ?? [], stacking, percent, priority);

    public static TheoryData<string, BasketLine[], Promotion[], decimal, decimal> Cases => new()
    {
        // name, basket, promotions, expected total, expected saving: worked out by hand.
        { "no promotion: 2 A + 1 C = 3.00 + 0.90", [Line(A, 2), Line(C, 1)], [], 3.90m, 0m },
        { "3 for 2 on A, 3 A: one free", [Line(A, 3)], [ThreeForTwo()], 3.00m, 1.50m },
        { "3 for 2 on A, 4 A: one free, one paid", [Line(A, 4)], [ThreeForTwo()], 4.50m, 1.50m },
        { "3 for 2 on A, 2 A: not enough", [Line(A, 2)], [ThreeForTwo()], 3.00m, 0m },
        { "3 for 2 on snacks, A A B: the cheapest (A 1.50) free", [Line(A, 2), Line(B, 1)], [ThreeForTwo(products: [], categories: Categories("snacks"))], 3.50m, 1.50m },
        { "3 for 2 on snacks, 3 B + 3 A: groups by price, B and A free", [Line(B, 3), Line(A, 3)], [ThreeForTwo(products: [], categories: Categories("snacks"))], 7.00m, 3.50m },
        { "3 for 5.00 on B: 6.00 becomes 5.00", [Line(B, 3)], [new FixedPriceBundle("3for5-B", "3 for 5.00", Products(B), Categories(), Stacking.Exclusive, 3, M(5.00m))], 5.00m, 1.00m },
        { "3 for 5.00 on A: 4.50 is cheaper, not applied", [Line(A, 3)], [new FixedPriceBundle("3for5-A", "3 for 5.00", Products(A), Categories(), Stacking.Exclusive, 3, M(5.00m))], 4.50m, 0m },
        { "3 for 5.00 on snacks, B B B A: the three B", [Line(B, 3), Line(A, 1)], [new FixedPriceBundle("3for5", "3 for 5.00", Products(), Categories("snacks"), Stacking.Exclusive, 3, M(5.00m))], 6.50m, 1.00m },
        { "20% off dairy, 2 C: 1.80 less 0.36", [Line(C, 2)], [Percent("20-dairy", 20, Stacking.Stackable, categories: Categories("dairy"))], 1.44m, 0.36m },
        { "exclusive 3 for 2 beats exclusive 25% on 3 A (1.50 > 1.125)", [Line(A, 3)], [ThreeForTwo(), Percent("25-A", 25, Stacking.Exclusive, Products(A))], 3.00m, 1.50m },
        { "4 A: 3 for 2 on three, 25% on the fourth (1.50 + 0.375 beats 4 x 0.375)", [Line(A, 4)], [ThreeForTwo(), Percent("25-A", 25, Stacking.Exclusive, Products(A))], 4.12m, 1.88m },
        { "exclusive 3 for 2 on A keeps its units; stackable 10% on snacks gets only B", [Line(A, 3), Line(B, 1)], [ThreeForTwo(), Percent("10-snacks", 10, Stacking.Stackable, categories: Categories("snacks"))], 4.80m, 1.70m },
        { "two stackable 10% on B: 0.20, then 10% of 1.80 = 0.18", [Line(B, 1)], [Percent("10-a", 10, Stacking.Stackable, Products(B), priority: 1), Percent("10-b", 10, Stacking.Stackable, Products(B), priority: 2)], 1.62m, 0.38m },
        { "spend 10 get 1 off: 6 B = 12.00", [Line(B, 6)], [new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m))], 11.00m, 1.00m },
        { "threshold counts after item promotions: 12.00 - 4.00 = 8.00 < 10", [Line(B, 6)], [ThreeForTwo(products: Products(B)), new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m))], 8.00m, 4.00m },
        { "weighed apples 1.234 kg x 2.49 = 3.07266, not a multi-buy unit", [Line(Apples, 1.234m)], [ThreeForTwo(products: Products(Apples))], 3.07m, 0m },
        { "weighed apples, 50% off fruit: 1.53633 rounds to 1.54", [Line(Apples, 1.234m)], [Percent("50-fruit", 50, Stacking.Stackable, categories: Categories("fruit"))], 1.53m, 1.54m },
        { "rounding half to even: 25% of 1.50 = 0.375 -> 0.38", [Line(A, 1)], [Percent("25-A", 25, Stacking.Stackable, Products(A))], 1.12m, 0.38m },
        { "buy 2 crisps (A), get a milk (C) free: 3.00 + 0.90 - 0.90", [Line(A, 2), Line(C, 1)], [BuyGet("b2A-gC", Products(A), 2, Products(C), 1, 100)], 3.00m, 0.90m },
        { "buy 2 crisps, get a milk free, only 1 crisps: nothing", [Line(A, 1), Line(C, 1)], [BuyGet("b2A-gC", Products(A), 2, Products(C), 1, 100)], 2.40m, 0m },
        { "buy a chocolate (B), get crisps (A) half price: 2.00 + 1.50 - 0.75", [Line(B, 1), Line(A, 1)], [BuyGet("b1B-hA", Products(B), 1, Products(A), 1, 50)], 2.75m, 0.75m },
        { "buy 2 snacks get 1 snack free gives the dearest (B 2.00): A A B", [Line(A, 2), Line(B, 1)], [BuyGet("b2g1", Products(), 2, Products(), 1, 100, Categories("snacks"))], 3.00m, 2.00m },
        { "0.50 off each B: 2 B = 4.00 - 1.00", [Line(B, 2)], [new AmountOff("50c-B", "0.50 off", Products(B), Categories(), Stacking.Stackable, M(0.50m))], 3.00m, 1.00m },
        { "2.00 off milk (0.90) never goes below zero", [Line(C, 1)], [new AmountOff("2-C", "2.00 off", Products(C), Categories(), Stacking.Stackable, M(2.00m))], 0.00m, 0.90m },
        { "3 for 2 on A, 6 A: two free", [Line(A, 6)], [ThreeForTwo()], 6.00m, 3.00m },
        { "3 for 2 on A, 5 A: one free", [Line(A, 5)], [ThreeForTwo()], 6.00m, 1.50m },
        { "2 for 3.00 on B, 3 B: one pair (4.00 -> 3.00), one at 2.00", [Line(B, 3)], [new FixedPriceBundle("2for3-B", "2 for 3.00", Products(B), Categories(), Stacking.Exclusive, 2, M(3.00m))], 5.00m, 1.00m },
        { "3 for 5.00 on B, 6 B: two bundles", [Line(B, 6)], [new FixedPriceBundle("3for5-B", "3 for 5.00", Products(B), Categories(), Stacking.Exclusive, 3, M(5.00m))], 10.00m, 2.00m },
        { "mix and match any 3 of A or C for 4.00: A A C = 3.90, not applied", [Line(A, 2), Line(C, 1)], [new FixedPriceBundle("mm-AC", "any 3 for 4.00", Products(A, C), Categories(), Stacking.Exclusive, 3, M(4.00m))], 3.90m, 0m },
        { "mix and match any 3 of A or B for 4.00: B A A = 5.00 -> 4.00", [Line(A, 2), Line(B, 1)], [new FixedPriceBundle("mm-AB", "any 3 for 4.00", Products(A, B), Categories(), Stacking.Exclusive, 3, M(4.00m))], 4.00m, 1.00m },
        { "exclusive 20% on snacks keeps B; stackable 10% on B gets nothing", [Line(B, 1)], [Percent("20-snacks", 20, Stacking.Exclusive, categories: Categories("snacks")), Percent("10-B", 10, Stacking.Stackable, Products(B))], 1.60m, 0.40m },
        { "stackables by priority: 0.50 off B, then 50% of 1.50", [Line(B, 1)], [new AmountOff("50c-B", "0.50 off", Products(B), Categories(), Stacking.Stackable, M(0.50m), Priority: 1), Percent("50-B", 50, Stacking.Stackable, Products(B), priority: 2)], 0.75m, 1.25m },
        { "stackables by priority: 50% of B, then 0.50 off 1.00", [Line(B, 1)], [Percent("50-B", 50, Stacking.Stackable, Products(B), priority: 1), new AmountOff("50c-B", "0.50 off", Products(B), Categories(), Stacking.Stackable, M(0.50m), Priority: 2)], 0.50m, 1.50m },
        { "threshold reached exactly: 5 B = 10.00", [Line(B, 5)], [new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m))], 9.00m, 1.00m },
        { "threshold just missed: 6 A = 9.00", [Line(A, 6)], [new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m))], 9.00m, 0m },
        { "two thresholds, by id: spend10 (12 -> 11), then spend5 (11 -> 10.50)", [Line(B, 6)], [new BasketThreshold("spend5", "Spend 5, 0.50 off", M(5m), M(0.50m)), new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m))], 10.50m, 1.50m },
        { "buy one A get one A free, 3 A: one pair", [Line(A, 3)], [BuyGet("bogof-A", Products(A), 1, Products(A), 1, 100)], 3.00m, 1.50m },
        { "apples 0.5 kg = 1.245 -> 1.24 (half-even); 20% off saves 0.249 -> 0.25", [Line(Apples, 0.5m)], [Percent("20-fruit", 20, Stacking.Stackable, categories: Categories("fruit"))], 0.99m, 0.25m },
        { "an amount off per unit does not apply to a weighed line", [Line(Apples, 1m)], [new AmountOff("20c-fruit", "0.20 off", Products(), Categories("fruit"), Stacking.Stackable, M(0.20m))], 2.49m, 0m },
        { "50% off dairy touches only dairy: A + C = 2.40 - 0.45", [Line(A, 1), Line(C, 1)], [Percent("50-dairy", 50, Stacking.Stackable, categories: Categories("dairy"))], 1.95m, 0.45m },
    };

    private static BuyGet BuyGet(string id, HashSet<Gtin> buy, int buyUnits, HashSet<Gtin> reward, int get, decimal percent, HashSet<string>? categories = null) =>
        new(id, id, buy, categories ?? Categories(), Stacking.Exclusive, buyUnits, reward, categories ?? Categories(), get, percent);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Basket_totals_match_hand_worked_figures(string name, BasketLine[] basket, Promotion[] promotions, decimal total, decimal saving)
    {
        var priced = Engine.Price(basket, promotions, Now, Eur);

        Assert.True(priced.Total == M(total) && priced.Saving == M(saving), $"{name}: total {priced.Total}, saving {priced.Saving}; applied: {string.Join(", ", priced.Applied.Select(a => $"{a.PromotionId} {a.Saving}"))}");
    }

    [Fact]
    public void The_receipt_explains_each_promotion_with_the_units_it_used()
    {
        var priced = Engine.Price([Line(B, 1), Line(A, 4)], [ThreeForTwo(), Percent("10-snacks", 10, Stacking.Stackable, categories: Categories("snacks"))], Now, Eur);

        var threeForTwo = priced.Applied.Single(a => a.PromotionId == "3for2-A");
        Assert.Equal([new UnitsUsed(A, 3)], threeForTwo.Used);
        Assert.Equal(M(1.50m), threeForTwo.Saving);
        var tenPercent = priced.Applied.Single(a => a.PromotionId == "10-snacks");
        Assert.Equal([new UnitsUsed(B, 1), new UnitsUsed(A, 1)], tenPercent.Used.OrderBy(u => u.Gtin.Value == A.Value).ToList());
        Assert.Equal(M(0.35m), tenPercent.Saving); // 10% of 2.00 + 10% of 1.50
    }

    [Fact]
    public void A_personal_offer_applies_only_to_its_members_or_segments()
    {
        var offer = Percent("20-dairy-members", 20, Stacking.Stackable, categories: Categories("dairy")) with
        {
            Audience = new Audience(new HashSet<string> { "m-1" }, new HashSet<string> { "students" }),
        };
        BasketLine[] basket = [Line(C, 2)];

        var anonymous = Engine.Price(basket, [offer], Now, Eur);
        var member = Engine.Price(basket, [offer], Now, Eur, new Customer("m-1", new HashSet<string>()));
        var student = Engine.Price(basket, [offer], Now, Eur, new Customer("m-9", new HashSet<string> { "students" }));
        var other = Engine.Price(basket, [offer], Now, Eur, new Customer("m-9", new HashSet<string> { "families" }));

        Assert.Equal((1.80m, 1.44m, 1.44m, 1.80m), (anonymous.Total.Amount, member.Total.Amount, student.Total.Amount, other.Total.Amount));
    }

    [Fact]
    public void A_promotion_outside_its_window_does_not_apply()
    {
        var later = ThreeForTwo() with { FromLocal = Now.AddHours(1) };

        Assert.Equal(M(4.50m), Engine.Price([Line(A, 3)], [later], Now, Eur).Total);
        Assert.Equal(M(3.00m), Engine.Price([Line(A, 3)], [later], Now.AddHours(1), Eur).Total);
    }

    [Fact]
    public void Property_the_result_does_not_depend_on_scan_order_or_on_how_lines_are_split()
    {
        Promotion[] promotions =
        [
            ThreeForTwo(products: [], categories: Categories("snacks")),
            Percent("25-A", 25, Stacking.Exclusive, Products(A)),
            new FixedPriceBundle("3for5-B", "3 for 5.00", Products(B), Categories(), Stacking.Exclusive, 3, M(5.00m)),
            Percent("10-dairy", 10, Stacking.Stackable, categories: Categories("dairy")),
            new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m)),
        ];
        var counts = Gen.Choose(0, 5).ArrayOf(3).ToArbitrary();
        Prop.ForAll(counts, Gen.Choose(0, int.MaxValue).ToArbitrary(), (quantities, seed) =>
        {
            // One line per unit, shuffled, against one line per product.
            var products = new[] { A, B, C };
            var grouped = products.Select((g, i) => Line(g, quantities[i])).Where(l => l.Quantity > 0).ToArray();
            var singles = products.SelectMany((g, i) => Enumerable.Repeat(g, quantities[i])).Select(g => Line(g, 1)).ToArray();
            new Random(seed).Shuffle(singles);
            var one = Engine.Price(grouped, promotions, Now, Eur);
            var other = Engine.Price(singles, promotions, Now, Eur);
            return one.Total == other.Total && one.Applied.Select(a => (a.PromotionId, a.Saving)).OrderBy(x => x.PromotionId)
                .SequenceEqual(other.Applied.Select(a => (a.PromotionId, a.Saving)).OrderBy(x => x.PromotionId));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Property_pricing_through_the_index_equals_pricing_against_every_promotion()
    {
        Promotion[] promotions =
        [
            ThreeForTwo(products: [], categories: Categories("snacks")),
            Percent("25-A", 25, Stacking.Exclusive, Products(A)),
            BuyGet("b2A-gC", Products(A), 2, Products(C), 1, 100),
            new FixedPriceBundle("3for5-B", "3 for 5.00", Products(B), Categories(), Stacking.Exclusive, 3, M(5.00m)),
            Percent("10-fruit", 10, Stacking.Stackable, categories: Categories("fruit")),
            Percent("50-other", 50, Stacking.Exclusive, Products(Gtin.Parse("10012345678902"))),
            new BasketThreshold("spend10", "Spend 10, 1 off", M(10m), M(1m)),
        ];
        var index = new PromotionIndex(promotions);
        Prop.ForAll(Gen.Choose(0, 4).ArrayOf(3).ToArbitrary(), quantities =>
        {
            var basket = new[] { A, B, C }.Select((g, i) => Line(g, quantities[i])).Where(l => l.Quantity > 0).ToArray();
            var all = Engine.Price(basket, promotions, Now, Eur);
            var indexed = Engine.Price(basket, index, Now, Eur);
            return all.Total == indexed.Total && all.Applied.Count == indexed.Applied.Count;
        }).QuickCheckThrowOnFailure();
        Assert.DoesNotContain(index.For([Line(A, 1)]), p => p.Id == "50-other");
    }

    [Fact]
    public void A_fractional_quantity_of_a_counted_item_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Engine.Price([Line(A, 1.5m)], [], Now, Eur));
    }
}
