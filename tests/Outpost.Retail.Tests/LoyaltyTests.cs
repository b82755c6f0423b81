using Outpost.Retail;
using Outpost.Retail.Checkout;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

public sealed class LoyaltyTests : IAsyncLifetime
{
    private const string Cola = "4006381333931";
    private const string Coffee = "96385074";
    private TestStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CheckoutService Checkout => _store.Checkout;

    public async ValueTask InitializeAsync()
    {
        _store = await TestStore.OpenAsync();
        _store.Product(Cola, "Cola 1.5L", 1.50m, "drinks")
            .Product(Coffee, "Coffee beans", 12.00m, "coffee")
            .Promotion(new PromotionDefinitionV1("p-cola", "Cola 3 for 2", "multiBuy", [Cola], null, Buy: 3, Pay: 2))
            .Promotion(new PromotionDefinitionV1("p-anna", "Anna: 25% off coffee", "percentOff", [Coffee], null, Percent: 25, Stacking: "stackable",
                Audience: new PromotionAudienceV1(["m-anna"], null)))
            .Member("m-anna", "6000100020003", 500, app: "app:anna-qr")
            .Member("m-bob", "6000100020004", 80)
            .Allowance(1000);
        await _store.SyncAsync();
    }

    public async ValueTask DisposeAsync() => await _store.DisposeAsync();

    [Theory]
    [InlineData("6000100020003")]
    [InlineData("app:anna-qr")]
    public async Task A_known_member_gets_personal_offers_and_earns_points_by_card_or_app(string presented)
    {
        var basket = await Checkout.OpenAsync("till-1", null, Ct);
        await Checkout.AddAsync(basket.Id, Coffee, null, Ct);
        basket = await Checkout.IdentifyMemberAsync(basket.Id, presented, Ct);
        await Checkout.PayCashAsync(basket.Id, 9m, Ct);
        var sale = (await Checkout.CompleteAsync(basket.Id, "k-" + presented, Ct)).Sale;
        await _store.SyncAsync();

        Assert.Equal(("m-anna", 500L), (basket.Member!.MemberId, basket.Member.Balance));
        Assert.Equal(9.00m, sale.Total);
        Assert.Equal("p-anna", Assert.Single(sale.Promotions).Id);
        Assert.Equal(new SaleMemberV1(presented, "m-anna", true, 9, 0), sale.Member);
        var earned = Assert.Single(await _store.EventsAsync(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.PointsEarned)).Deserialize(LoyaltyJsonContext.Default.PointsDeltaV1);
        Assert.Equal(new PointsDeltaV1("m-anna", 9, sale.SaleId), earned);
        Assert.Equal(509, (await _store.Retail.Loyalty.IdentifyAsync(presented, Ct))!.Balance);
    }

    [Fact]
    public async Task An_unknown_member_still_buys_with_product_promotions_and_hq_settles_the_points_later()
    {
        var basket = await Checkout.OpenAsync("till-1", null, Ct);
        await Checkout.AddAsync(basket.Id, Cola, 3, Ct);
        await Checkout.AddAsync(basket.Id, Coffee, null, Ct);
        basket = await Checkout.IdentifyMemberAsync(basket.Id, "6000100099999", Ct); // joined an hour ago, while the store was offline
        await Checkout.PayCashAsync(basket.Id, 20m, Ct);
        var done = await Checkout.CompleteAsync(basket.Id, "k-unknown", Ct);

        Assert.False(basket.Member!.Known);
        Assert.Contains(basket.Notices, n => n.Contains("not known in this store yet", StringComparison.Ordinal));
        Assert.Equal(15.00m, done.Sale.Total); // 3 for 2 on cola applies; Anna's personal coffee offer does not
        Assert.Equal(new SaleMemberV1("6000100099999", null, false, 0, 0), done.Sale.Member);
        Assert.Contains("HQ will add your points", done.Receipt, StringComparison.Ordinal);
        var settle = Assert.Single(await _store.EventsAsync(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.SaleToSettle)).Deserialize(LoyaltyJsonContext.Default.SaleToSettleV1);
        Assert.Equal(new SaleToSettleV1("6000100099999", done.Sale.SaleId, 15.00m, "EUR"), settle);
        Assert.Empty(await _store.EventsAsync(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.PointsEarned));
    }

    [Fact]
    public async Task Points_pay_within_the_balance_and_the_store_allowance_and_are_sent_up_as_a_delta()
    {
        var basket = await Checkout.OpenAsync("till-1", null, Ct);
        await Checkout.AddAsync(basket.Id, Cola, 2, Ct);
        await Checkout.IdentifyMemberAsync(basket.Id, "6000100020004", Ct);
        basket = await Checkout.PayPointsAsync(basket.Id, 50, Ct); // 0.50
        await Checkout.PayCashAsync(basket.Id, 2.50m, Ct);
        var sale = (await Checkout.CompleteAsync(basket.Id, "k-points", Ct)).Sale;
        var allowanceBeforeProjection = await _store.Retail.Loyalty.AllowanceLeftAsync(Ct);
        await _store.SyncAsync();

        Assert.Equal(2.50m, basket.Due);
        Assert.Equal(new SaleMemberV1("6000100020004", "m-bob", true, 2, 50), sale.Member); // 2.50 paid in cash earns 2 points
        var redeemed = Assert.Single(await _store.EventsAsync(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.PointsRedeemed)).Deserialize(LoyaltyJsonContext.Default.PointsDeltaV1);
        Assert.Equal(new PointsDeltaV1("m-bob", 50, sale.SaleId), redeemed);
        Assert.Equal(950, allowanceBeforeProjection);
        Assert.Equal(950, await _store.Retail.Loyalty.AllowanceLeftAsync(Ct));
        Assert.Equal(80 - 50 + 2, (await _store.Retail.Loyalty.IdentifyAsync("6000100020004", Ct))!.Balance);
    }

    [Fact]
    public async Task Redemption_beyond_the_balance_or_the_allowance_is_refused_and_unknown_members_cannot_redeem()
    {
        var basket = await Checkout.OpenAsync("till-1", null, Ct);
        await Checkout.AddAsync(basket.Id, Coffee, 2, Ct);
        await Checkout.IdentifyMemberAsync(basket.Id, "6000100020004", Ct);
        var overBalance = await Assert.ThrowsAsync<RetailException>(() => Checkout.PayPointsAsync(basket.Id, 81, Ct));

        _store.Allowance(20);
        await _store.SyncAsync();
        var overAllowance = await Assert.ThrowsAsync<RetailException>(() => Checkout.PayPointsAsync(basket.Id, 21, Ct));

        var stranger = await Checkout.OpenAsync("till-1", null, Ct);
        await Checkout.AddAsync(stranger.Id, Coffee, null, Ct);
        await Checkout.IdentifyMemberAsync(stranger.Id, "6000100099999", Ct);
        var unknown = await Assert.ThrowsAsync<RetailException>(() => Checkout.PayPointsAsync(stranger.Id, 10, Ct));

        Assert.All(new[] { overBalance, overAllowance, unknown }, e => Assert.Equal(RetailProblem.Refused, e.Problem));
        Assert.Contains("has 80 points", overBalance.Message, StringComparison.Ordinal);
        Assert.Contains("20 more points", overAllowance.Message, StringComparison.Ordinal);
        Assert.Empty((await Checkout.GetAsync(basket.Id, Ct)).Tenders);
    }

    [Fact]
    public async Task Two_tills_cannot_spend_the_same_points_before_the_read_model_catches_up()
    {
        var baskets = new List<string>();
        foreach (var till in new[] { "till-1", "till-2" })
        {
            var basket = await Checkout.OpenAsync(till, null, Ct);
            await Checkout.AddAsync(basket.Id, Coffee, null, Ct);
            await Checkout.IdentifyMemberAsync(basket.Id, "6000100020004", Ct);
            await Checkout.PayPointsAsync(basket.Id, 60, Ct); // each alone is within Bob's 80 points
            await Checkout.PayCashAsync(basket.Id, 11.40m, Ct);
            baskets.Add(basket.Id);
        }

        await Checkout.CompleteAsync(baskets[0], "k-a", Ct);
        var second = await Assert.ThrowsAsync<RetailException>(() => Checkout.CompleteAsync(baskets[1], "k-b", Ct));

        Assert.Equal(RetailProblem.Refused, second.Problem);
        Assert.Single(await _store.EventsAsync(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.PointsRedeemed));
        Assert.Single(await _store.EventsAsync(CheckoutEvents.SalesTopic, CheckoutEvents.SaleCompleted));
    }

    [Fact]
    public async Task Members_of_other_regions_are_not_in_this_stores_cache()
    {
        await _store.Log.AppendAsync(new Core.Events.NewEvent
        {
            Topic = LoyaltyEvents.MembersTopic,
            Type = LoyaltyEvents.MemberUpserted,
            Key = "m-south",
            Scope = Core.Events.Scope.Region("south"),
            Payload = Core.Events.NewEvent.Json(new MemberUpsertedV1("m-south", "6000100020099", null, "South", null, 10), LoyaltyJsonContext.Default.MemberUpsertedV1),
        }, Ct);
        await _store.SyncAsync();

        Assert.Null(await _store.Retail.Loyalty.IdentifyAsync("6000100020099", Ct));
        Assert.NotNull(await _store.Retail.Loyalty.IdentifyAsync("6000100020003", Ct));
    }
}
