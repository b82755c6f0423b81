using Outpost.Retail.Checkout;
using Outpost.Retail.Gate;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Tests;

public sealed class GateTests : IAsyncLifetime
{
    private const string Cola = "4006381333931";
    private TestStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private GateService Gate => _store.Retail.Gate;

    public async ValueTask InitializeAsync()
    {
        _store = await TestStore.OpenAsync();
        _store.Product(Cola, "Cola 1.5L", 1.50m, "drinks")
            .Promotion(new PromotionDefinitionV1("p-cola", "Cola 3 for 2", "multiBuy", [Cola], null, Buy: 3, Pay: 2))
            .Member("m-anna", "6000100020003", 100);
        await _store.SyncAsync();
        _store.Terminal.HostReachable = false; // the payment path is down: the gate works all the same
    }

    public async ValueTask DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task A_known_card_is_admitted_offline_and_the_exit_records_a_deferred_charge_settled_once_when_payments_return()
    {
        var visit = await Gate.EnterAsync("gate-1", "6000100020003", Ct);
        var exit = await Gate.ExitAsync("gate-1", visit.VisitId, [(Cola, 3)], Ct);
        var again = await Gate.ExitAsync("gate-1", visit.VisitId, [(Cola, 3)], Ct); // the gate retried
        await _store.SyncAsync();
        var whileDown = await _store.Checkout.ForwardOfflineApprovalsAsync(Ct);
        _store.Terminal.HostReachable = true;
        var settled = await _store.Checkout.ForwardOfflineApprovalsAsync(Ct);
        await _store.SyncAsync();
        var twice = await _store.Checkout.ForwardOfflineApprovalsAsync(Ct);

        Assert.Equal("m-anna", visit.MemberId);
        var tender = Assert.Single(exit!.Sale.Tenders);
        Assert.Equal(("deferred", 3.00m, "member:m-anna"), (tender.Kind, tender.Amount, tender.CardToken));
        Assert.Equal(exit.Sale.SaleId, again!.Sale.SaleId);
        Assert.Contains("Card on file (charged later)", exit.Receipt, StringComparison.Ordinal);
        Assert.Equal((0, 1, 0), (whileDown, settled, twice));
        Assert.Equal(("member:m-anna", 3.00m), Assert.Single(_store.Terminal.Forwarded));
        Assert.Single(await _store.EventsAsync(CheckoutEvents.SalesTopic, CheckoutEvents.SaleCompleted));
        Assert.Equal(["GateEntered", "GateExited"], (await _store.EventsAsync(GateService.GateTopic)).Select(e => e.Type));
    }

    [Fact]
    public async Task An_unknown_card_is_not_admitted_and_leaving_empty_handed_records_no_sale()
    {
        var refused = await Assert.ThrowsAsync<RetailException>(() => Gate.EnterAsync("gate-1", "6000100099999", Ct));
        var visit = await Gate.EnterAsync("gate-1", "6000100020003", Ct);
        var exit = await Gate.ExitAsync("gate-1", visit.VisitId, [], Ct);

        Assert.Equal(RetailProblem.Refused, refused.Problem);
        Assert.Null(exit);
        Assert.Empty(await _store.EventsAsync(CheckoutEvents.SalesTopic, CheckoutEvents.SaleCompleted));
    }
}
