using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Gate;

/// <summary>A shopper inside a walk-out store.</summary>
/// <param name="VisitId">The visit (also its basket and, at exit, its sale).</param>
/// <param name="MemberId">The member.</param>
/// <param name="Name">Their name, for the gate's screen.</param>
/// <param name="EnteredAt">When.</param>
public sealed record GateVisit(string VisitId, string MemberId, string Name, DateTimeOffset EnteredAt);

/// <summary>Version 1 of <c>GateEntered</c> and <c>GateExited</c> (topic <c>gate</c>).</summary>
/// <param name="VisitId">The visit.</param>
/// <param name="MemberId">The member.</param>
/// <param name="GateId">The gate.</param>
/// <param name="At">When.</param>
/// <param name="SaleId">At exit, the sale with the deferred charge; null when nothing was taken.</param>
public sealed record GateEventV1(string VisitId, string MemberId, string GateId, DateTimeOffset At, string? SaleId);

/// <summary>Source-generated JSON for gate events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GateEventV1))]
public sealed partial class GateJsonContext : JsonSerializerContext;

/// <summary>
/// The walk-out gate: a loyalty card (or app code) tapped at the entrance is checked against the store's own
/// member cache and admitted at once, online or not; at the exit, what the shopper took is priced by the one
/// engine (with their personal offers) and recorded as a sale paid by a deferred charge to their card on file,
/// which the store charges when the payment path is available. Cards the store does not know are not admitted
/// (an assumption: the gate cannot check an unknown card without HQ; such shoppers use a till).
/// </summary>
public sealed class GateService(IEventLog log, StoreContext store, LoyaltyService loyalty, CheckoutService checkout, TimeProvider time)
{
    /// <summary>The gate's topic (sent up).</summary>
    public const string GateTopic = "gate";

    /// <summary>A member was admitted at the entrance.</summary>
    public const string GateEntered = "GateEntered";

    /// <summary>A member left by the exit (with the sale, when they took something).</summary>
    public const string GateExited = "GateExited";

    /// <summary>Admits a member.</summary>
    /// <exception cref="RetailException">The card is not known at this store.</exception>
    public async Task<GateVisit> EnterAsync(string gateId, string presented, CancellationToken cancellationToken)
    {
        var member = await loyalty.IdentifyAsync(presented, cancellationToken)
            ?? throw new RetailException(RetailProblem.Refused, "This card is not known at this store yet, so the gate cannot open for it: please use a till.");
        var basket = await checkout.OpenAsync(gateId, null, cancellationToken);
        await checkout.IdentifyMemberAsync(basket.Id, presented, cancellationToken);
        var now = time.GetUtcNow();
        await AppendAsync(GateEntered, new GateEventV1(basket.Id, member.MemberId, gateId, now, null), cancellationToken);
        return new GateVisit(basket.Id, member.MemberId, member.Name, now);
    }

    /// <summary>
    /// Lets the shopper out with what they took: a sale with a deferred charge (or nothing, when they took
    /// nothing). Retrying an exit returns the same sale.
    /// </summary>
    public async Task<SaleReceipt?> ExitAsync(string gateId, string visitId, IReadOnlyList<(string Code, decimal? Quantity)> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var key = "exit:" + visitId;
        var basket = await checkout.GetAsync(visitId, cancellationToken);
        if (basket.Status == BasketStatus.Completed)
        {
            return await checkout.CompleteAsync(visitId, key, cancellationToken);
        }

        if (basket.Status == BasketStatus.Voided)
        {
            return null;
        }

        var memberId = basket.Member?.MemberId ?? throw new RetailException(RetailProblem.Conflict, $"{visitId} is not a gate visit.");
        if (items.Count == 0)
        {
            await checkout.VoidAsync(visitId, gateId, "left without taking anything", cancellationToken);
            await AppendAsync(GateExited, new GateEventV1(visitId, memberId, gateId, time.GetUtcNow(), null), cancellationToken);
            return null;
        }

        if (basket.Status == BasketStatus.Open)
        {
            foreach (var (code, quantity) in items)
            {
                await checkout.AddAsync(visitId, code, quantity, cancellationToken);
            }

            await checkout.PayDeferredAsync(visitId, cancellationToken);
        }

        var sale = await checkout.CompleteAsync(visitId, key, cancellationToken);
        await AppendAsync(GateExited, new GateEventV1(visitId, memberId, gateId, time.GetUtcNow(), sale.Sale.SaleId), cancellationToken);
        return sale;
    }

    private async Task AppendAsync(string type, GateEventV1 payload, CancellationToken cancellationToken) =>
        await log.AppendAsync(new NewEvent
        {
            Topic = GateTopic,
            Type = type,
            Key = payload.VisitId,
            Scope = Scope.Store(store.StoreId),
            Payload = NewEvent.Json(payload, GateJsonContext.Default.GateEventV1),
        }, cancellationToken);
}
