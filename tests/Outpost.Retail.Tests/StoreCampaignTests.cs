using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

public sealed class StoreCampaignTests : IAsyncLifetime
{
    private const string Cola = "4006381333931";
    private TestStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = await TestStore.OpenAsync();
        _store.Product(Cola, "Cola 1.5L", 1.50m, "drinks");
        await _store.SyncAsync();
    }

    public async ValueTask DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task A_store_promotion_created_by_staff_applies_in_its_window_and_is_recorded_with_its_author()
    {
        var today = new DateTime(2026, 11, 23);
        await _store.Retail.Campaigns.SetPromotionAsync("halloween", new PromotionDefinitionV1("x", "Cola 2 for 2.00", "fixedPrice", [Cola], null, Quantity: 2, Price: 2.00m),
            today.AddHours(14), today.AddDays(1), "manager-7", Ct);
        await _store.SyncAsync();

        var before = await TwoColasAsync();
        _store.Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero)); // 14:00 in Paris
        var during = await TwoColasAsync();

        Assert.Equal((3.00m, 2.00m), (before, during));
        var recorded = Assert.Single(await _store.EventsAsync(PricingEvents.CampaignsTopic)).Deserialize(PromotionJsonContext.Default.StoreCampaignPromotionSetV1);
        Assert.Equal(("manager-7", "campaign-halloween"), (recorded.CreatedBy, recorded.Promotion.Id));
        Assert.Equal(Core.Events.Scope.Store(TestStore.Context.StoreId), (await _store.EventsAsync(PricingEvents.CampaignsTopic))[0].Scope);
    }

    [Fact]
    public async Task Invalid_campaigns_are_refused_with_the_reason_and_record_nothing()
    {
        var today = new DateTime(2026, 11, 23);
        var campaigns = _store.Retail.Campaigns;
        var errors = new List<ArgumentException>
        {
            await Assert.ThrowsAsync<ArgumentException>(() => campaigns.SetPriceAsync("c 1", Cola, 1m, today, today.AddDays(1), "m", Ct)),
            await Assert.ThrowsAsync<ArgumentException>(() => campaigns.SetPriceAsync("c1", "4006381333948", 1m, today, today.AddDays(1), "m", Ct)),
            await Assert.ThrowsAsync<ArgumentException>(() => campaigns.SetPriceAsync("c1", Cola, -1m, today, today.AddDays(1), "m", Ct)),
            await Assert.ThrowsAsync<ArgumentException>(() => campaigns.SetPriceAsync("c1", Cola, 1m, today, today, "m", Ct)),
            await Assert.ThrowsAsync<ArgumentException>(() => campaigns.SetPriceAsync("c1", Cola, 1m, today, today.AddDays(1), " ", Ct)),
            await Assert.ThrowsAsync<ArgumentException>(() => campaigns.SetPromotionAsync("c1", new PromotionDefinitionV1("x", "bad", "multiBuy", [Cola], null, Buy: 2, Pay: 3), today, today.AddDays(1), "m", Ct)),
        };

        Assert.Contains("does not sell", errors[1].Message, StringComparison.Ordinal);
        Assert.Contains("$.promotion.pay", errors[5].Message, StringComparison.Ordinal);
        Assert.Empty(await _store.EventsAsync(PricingEvents.CampaignsTopic));
    }

    private async Task<decimal> TwoColasAsync()
    {
        var basket = await _store.Checkout.OpenAsync("till-1", null, Ct);
        return (await _store.Checkout.AddAsync(basket.Id, Cola, 2, Ct)).Total;
    }
}
