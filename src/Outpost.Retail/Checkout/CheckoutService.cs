using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Threading;
using Outpost.Retail;
using Outpost.Retail.Catalog;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Checkout;

/// <summary>
/// Checkout at a store: baskets (kept durably, so a till survives a restart of the store server), pricing through
/// the one pricing engine, tenders (cash, card through the payment terminal with offline approvals under a floor
/// limit, loyalty points), completion as a durable event before the till hears "done", voids and returns.
/// Nothing here needs HQ: it works the same with the link down.
/// </summary>
/// <remarks>
/// Operations on one basket are serialised. A completion carries the till's idempotency key: a retry with the
/// same key (after a timeout, a crash of the till or of the server) returns the sale already recorded. A sale this
/// instance recorded is remembered by its key; any other was appended before the instance started (or before it
/// last forgot), so the key is looked up in the checkout read model once that model has caught up that far: the
/// answer is right just after a restart, and a new sale does not wait for the read model to catch up with the
/// other tills' sales. Completions with one key are serialised, whatever their baskets.
/// </remarks>
public sealed class CheckoutService(
    IEventLog log,
    BasketStore baskets,
    StoreContext store,
    PriceCheck pricing,
    PromotionCatalog promotions,
    LoyaltyService loyalty,
    IPaymentTerminal terminal,
    CheckoutOptions options,
    TimeProvider time,
    Func<string, long, CancellationToken, Task> projected)
{
    private CheckoutOptions _options = options;

    /// <summary>
    /// The checkout rules in force. Replaced whole when a release's settings are applied to the running store (the
    /// floor limit, the refund limit…), so an operation reads one consistent set.
    /// </summary>
    public CheckoutOptions Options
    {
        get => Volatile.Read(ref _options);
        set => Volatile.Write(ref _options, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>How many recorded sales are remembered by key before the memory starts again (a few MB).</summary>
    internal int RememberedSales { get; set; } = 100_000;

    private readonly KeyedLock _locks = new();
    private readonly Dictionary<string, SaleCompletedV2> _recorded = new(StringComparer.Ordinal);
    private readonly Lock _recordedGate = new();

    // Every sale appended through this instance and not in _recorded has a sequence at or below this.
    private long _recordedBefore = log.Head;

    private Currency Currency => store.Currency;

    /// <summary>Opens a basket at a till.</summary>
    public async Task<BasketView> OpenAsync(string tillId, string? staffId, CancellationToken cancellationToken)
    {
        Require(tillId, "till id");
        var now = time.GetUtcNow();
        var state = new BasketState { Id = Guid.CreateVersion7(now).ToString("N"), TillId = tillId, StaffId = staffId, OpenedAt = now };
        await SaveAsync(state, cancellationToken);
        return await ViewAsync(state, cancellationToken);
    }

    /// <summary>The basket as the till shows it.</summary>
    public async Task<BasketView> GetAsync(string basketId, CancellationToken cancellationToken) => await ViewAsync(await LoadAsync(basketId, cancellationToken), cancellationToken);

    /// <summary>The baskets still open at a till (after a restart, the till picks its basket up again).</summary>
    public Task<IReadOnlyList<string>> OpenBasketsAsync(string tillId, CancellationToken cancellationToken) => baskets.OpenAtAsync(tillId, cancellationToken);

    /// <summary>Scans an item: a GTIN or an in-store barcode, with a quantity (units, or kilograms when weighed).</summary>
    /// <exception cref="RetailException">Unknown product, no price, bad quantity, or the basket is past scanning.</exception>
    public Task<BasketView> AddAsync(string basketId, string scanned, decimal? quantity, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, async state =>
        {
            RequireStatus(state, BasketStatus.Open, "scan more items");
            if (quantity is { } q && q > Options.MaxLineQuantity)
            {
                throw new RetailException(RetailProblem.Invalid, $"{q} is more than the {Options.MaxLineQuantity} a line may hold.");
            }

            if (state.Items.Count >= Options.MaxLines)
            {
                throw new RetailException(RetailProblem.Invalid, $"A basket holds at most {Options.MaxLines} lines; complete this one and open another.");
            }

            var item = await pricing.ResolveAsync(scanned, quantity, time.GetUtcNow(), cancellationToken);
            var line = item.Line;
            var added = new BasketItem(state.Items.Count + 1, scanned, line.Gtin.Value, item.Product.Name, line.Category, line.TaxClass, line.Quantity, line.UnitPrice.Amount,
                line.Weighed, item.Source);
            return state with { Items = [.. state.Items, added] };
        }, cancellationToken);

    /// <summary>Changes a line's quantity (units, or kilograms).</summary>
    public Task<BasketView> SetQuantityAsync(string basketId, int lineNo, decimal quantity, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, state =>
        {
            RequireStatus(state, BasketStatus.Open, "change quantities");
            var item = Line(state, lineNo);
            if (quantity <= 0 || quantity > Options.MaxLineQuantity || (!item.Weighed && quantity != decimal.Truncate(quantity)))
            {
                throw new RetailException(RetailProblem.Invalid, $"{quantity} is not a quantity of '{item.Name}': give {(item.Weighed ? "a weight in kg" : "a whole number")} from 1 to {Options.MaxLineQuantity}.");
            }

            return Task.FromResult(state with { Items = [.. state.Items.Select(i => i.No == lineNo ? i with { Quantity = quantity } : i)] });
        }, cancellationToken);

    /// <summary>Voids a line (it stays on record as voided).</summary>
    public Task<BasketView> VoidLineAsync(string basketId, int lineNo, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, state =>
        {
            RequireStatus(state, BasketStatus.Open, "void lines");
            Line(state, lineNo);
            return Task.FromResult(state with { Items = [.. state.Items.Select(i => i.No == lineNo ? i with { Voided = true } : i)] });
        }, cancellationToken);

    /// <summary>Identifies the loyalty member by card number or app QR code. An unknown card is kept: HQ settles it later.</summary>
    public Task<BasketView> IdentifyMemberAsync(string basketId, string presented, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, state =>
        {
            RequireStatus(state, BasketStatus.Open, "add a loyalty card");
            var code = presented?.Trim();
            if (string.IsNullOrEmpty(code) || code.Length > 64)
            {
                throw new RetailException(RetailProblem.Invalid, "A loyalty card number or app code is 1 to 64 characters.");
            }

            return Task.FromResult(state with { MemberPresented = code });
        }, cancellationToken);

    /// <summary>Takes cash; more than is due gives change at completion.</summary>
    public Task<BasketView> PayCashAsync(string basketId, decimal tendered, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, async state =>
        {
            if (tendered <= 0 || decimal.Round(tendered, Currency.Decimals) != tendered)
            {
                throw new RetailException(RetailProblem.Invalid, $"{tendered} is not an amount of cash in {Currency.Code}.");
            }

            var (frozen, due) = await FreezeForTenderAsync(state, cancellationToken);
            if (due <= 0)
            {
                throw new RetailException(RetailProblem.Conflict, "Nothing is left to pay: complete the sale.");
            }

            return frozen with { Tenders = [.. frozen.Tenders, new SaleTenderV1("cash", Math.Min(tendered, due), Tendered: tendered)] };
        }, cancellationToken);

    /// <summary>
    /// Takes a card payment through the terminal (all that is due unless an amount is given). With the payment
    /// host unreachable, amounts up to the floor limit are approved offline and forwarded later; above it the
    /// payment is refused.
    /// </summary>
    public Task<BasketView> PayCardAsync(string basketId, decimal? amount, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, async state =>
        {
            var (frozen, due) = await FreezeForTenderAsync(state, cancellationToken);
            var pay = amount ?? due;
            if (pay <= 0 || pay > due || decimal.Round(pay, Currency.Decimals) != pay)
            {
                throw new RetailException(RetailProblem.Invalid, $"{pay} is not a card amount: give up to the {due.ToString("0.00", CultureInfo.InvariantCulture)} due.");
            }

            var answer = await terminal.AuthorizeAsync(new PaymentRequest(new Money(pay, Currency), state.Id, pay <= Options.OfflineFloorLimit), cancellationToken);
            return answer.Outcome switch
            {
                CardOutcome.Approved or CardOutcome.ApprovedOffline => frozen with
                {
                    Tenders = [.. frozen.Tenders, new SaleTenderV1("card", pay, CardToken: answer.CardToken, CardLast4: answer.Last4, AuthCode: answer.AuthCode,
                        Offline: answer.Outcome == CardOutcome.ApprovedOffline)],
                },
                CardOutcome.Declined => throw new RetailException(RetailProblem.Refused, $"Card ****{answer.Last4} declined: {answer.Message}."),
                _ => throw new RetailException(RetailProblem.Refused,
                    $"The payment host cannot be reached, and card payments above {Options.OfflineFloorLimit.ToString("0.00", CultureInfo.InvariantCulture)} {Currency.Code} cannot be approved offline. Take cash, or a card payment up to the limit."),
            };
        }, cancellationToken);

    /// <summary>Pays with loyalty points (a known member's), within their balance and the store's allowance.</summary>
    public Task<BasketView> PayPointsAsync(string basketId, long points, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, async state =>
        {
            if (points <= 0)
            {
                throw new RetailException(RetailProblem.Invalid, $"{points} is not a number of points to redeem.");
            }

            var member = await MemberAsync(state, cancellationToken);
            if (member is null)
            {
                throw new RetailException(RetailProblem.Refused, state.MemberPresented is null
                    ? "Scan the member's loyalty card before paying with points."
                    : "This member is not known in this store yet, so their points cannot be redeemed here today.");
            }

            var (frozen, due) = await FreezeForTenderAsync(state, cancellationToken);
            var value = Math.Round(points * loyalty.Options.PointValue, Currency.Decimals, MidpointRounding.ToZero);
            if (value > due)
            {
                throw new RetailException(RetailProblem.Invalid, $"{points} points are worth {value:0.00}, more than the {due:0.00} due.");
            }

            try
            {
                await loyalty.CheckAsync(member.MemberId, points + PointsOf(frozen), cancellationToken);
            }
            catch (LoyaltyException ex)
            {
                throw new RetailException(RetailProblem.Refused, ex.Message, ex);
            }

            return frozen with { Tenders = [.. frozen.Tenders, new SaleTenderV1("points", value, Points: points)] };
        }, cancellationToken);

    /// <summary>
    /// Pays what is due as a deferred charge to a known member's card on file (walk-out stores): recorded at once,
    /// even offline, and charged by <see cref="ForwardOfflineApprovalsAsync"/> when the payment path is available.
    /// </summary>
    public Task<BasketView> PayDeferredAsync(string basketId, CancellationToken cancellationToken) =>
        ChangeAsync(basketId, async state =>
        {
            var member = await MemberAsync(state, cancellationToken);
            if (member is null)
            {
                throw new RetailException(RetailProblem.Refused, "A deferred charge needs a member this store knows (their card on file is charged later).");
            }

            var (frozen, due) = await FreezeForTenderAsync(state, cancellationToken);
            if (due <= 0)
            {
                throw new RetailException(RetailProblem.Conflict, "Nothing is left to pay: complete the sale.");
            }

            return frozen with
            {
                Tenders = [.. frozen.Tenders, new SaleTenderV1("deferred", due, CardToken: "member:" + member.MemberId, AuthCode: "D-" + state.Id, Offline: true)],
            };
        }, cancellationToken);

    /// <summary>
    /// Completes the sale once it is paid: the sale, its electronic receipt and the loyalty deltas are appended
    /// atomically and durably, then the till gets the receipt. A retry with the same idempotency key returns
    /// the same sale and records nothing.
    /// </summary>
    public async Task<SaleReceipt> CompleteAsync(string basketId, string idempotencyKey, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > 100)
        {
            throw new RetailException(RetailProblem.Invalid, "An idempotency key is 1 to 100 characters, the same for every retry of one completion.");
        }

        using var held = await _locks.AcquireAsync(basketId, cancellationToken);
        using var heldKey = await _locks.AcquireAsync("key:" + idempotencyKey, cancellationToken);
        if (await FindSaleByKeyAsync(idempotencyKey, cancellationToken) is { } done)
        {
            if (done.BasketId != basketId)
            {
                throw new RetailException(RetailProblem.Conflict, $"Idempotency key '{idempotencyKey}' already completed another basket ({done.BasketId}).");
            }

            // The sale is in the log, but the basket's own save after it may have failed (its disk full): the retry
            // closes the basket, so it no longer shows as open at the till nor keeps the store's disk problem set.
            if (await baskets.LoadAsync(basketId, cancellationToken) is { Status: not BasketStatus.Completed } open)
            {
                await SaveAsync(open with { Status = BasketStatus.Completed, SaleId = done.SaleId }, cancellationToken);
            }

            return new SaleReceipt(done, Receipt.Of(done, Options.StoreName));
        }

        var state = await LoadAsync(basketId, cancellationToken);
        if (state.Status is BasketStatus.Completed or BasketStatus.Voided)
        {
            throw new RetailException(RetailProblem.Conflict, $"Basket {basketId} is already {state.Status.ToString().ToLowerInvariant()}{(state.SaleId is { } id ? " as sale " + id : string.Empty)}.");
        }

        if (!state.Items.Any(i => !i.Voided))
        {
            throw new RetailException(RetailProblem.Conflict, "The basket has no items to sell.");
        }

        var (frozen, due) = await FreezeForTenderAsync(state, cancellationToken);
        if (due > 0)
        {
            throw new RetailException(RetailProblem.Conflict, $"{due.ToString("0.00", CultureInfo.InvariantCulture)} {Currency.Code} is still due.");
        }

        var priced = frozen.Frozen!;
        var now = time.GetUtcNow();
        var member = await MemberAsync(frozen, cancellationToken);
        var redeemed = PointsOf(frozen);
        var eligible = priced.Total - frozen.Tenders.Where(t => t.Kind == "points").Sum(t => t.Amount);
        var earned = member is null ? 0 : (long)decimal.Floor(eligible) * loyalty.Options.PointsPerUnit;
        var sale = new SaleCompletedV2(state.Id, state.Id, idempotencyKey, store.StoreId, state.TillId, state.StaffId, now, store.LocalTime(now), Currency.Code,
            priced.Lines, [.. state.Items.Where(i => i.Voided).Select(i => SaleLine(i, 0m))], priced.Promotions, priced.Subtotal, priced.Saving, priced.Total,
            priced.Taxes, priced.TaxTotal, Options.Taxes.PricesIncludeTax, frozen.Tenders,
            frozen.Tenders.Where(t => t.Kind == "cash").Sum(t => t.Tendered!.Value - t.Amount),
            frozen.MemberPresented is null ? null : new SaleMemberV1(frozen.MemberPresented, member?.MemberId, member is not null, earned, redeemed), store.BusinessDay(now));
        var receipt = Receipt.Of(sale, Options.StoreName);
        var events = SaleEvents(sale, receipt, member, earned, redeemed, eligible);
        if (redeemed > 0)
        {
            try
            {
                await loyalty.RedeemAsync(member!.MemberId, redeemed, async ct =>
                {
                    var results = await log.AppendBatchAsync(events, cancellationToken: ct);
                    return (true, results[^1].Seq);
                }, cancellationToken);
            }
            catch (LoyaltyException ex)
            {
                throw new RetailException(RetailProblem.Refused, ex.Message + " Remove the points tender and take another.", ex);
            }
        }
        else
        {
            await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
        }

        Remember(sale);
        await SaveAsync(frozen with { Status = BasketStatus.Completed, SaleId = sale.SaleId }, cancellationToken);
        return new SaleReceipt(sale, receipt);
    }

    /// <summary>Voids a whole basket (open or part-paid): card payments are reversed, and the void is recorded with who and why.</summary>
    public async Task<BasketView> VoidAsync(string basketId, string staffId, string reason, CancellationToken cancellationToken)
    {
        Require(staffId, "staff id");
        Require(reason, "reason");
        return await ChangeAsync(basketId, async state =>
        {
            if (state.Status is BasketStatus.Completed or BasketStatus.Voided)
            {
                throw new RetailException(RetailProblem.Conflict, $"Basket {basketId} is already {state.Status.ToString().ToLowerInvariant()}.");
            }

            var reversed = new List<SaleTenderV1>();
            foreach (var card in state.Tenders.Where(t => t.Kind == "card"))
            {
                if (!card.Offline && !await terminal.ReverseAsync(card.CardToken!, card.AuthCode!, new Money(card.Amount, Currency), cancellationToken))
                {
                    throw new RetailException(RetailProblem.Refused, $"The card payment ****{card.CardLast4} could not be reversed; try again or refund it as a return.");
                }

                reversed.Add(card);
            }

            var now = time.GetUtcNow();
            var voided = new SaleVoidedV1(state.Id, store.StoreId, state.TillId, staffId, reason, now, [.. state.Items.Select(i => SaleLine(i, 0m))], reversed);
            await log.AppendAsync(new NewEvent
            {
                Topic = CheckoutEvents.SalesTopic,
                Type = CheckoutEvents.SaleVoided,
                Key = state.Id,
                Scope = Scope.Store(store.StoreId),
                Payload = NewEvent.Json(voided, CheckoutJsonContext.Default.SaleVoidedV1),
            }, cancellationToken);
            return state with { Status = BasketStatus.Voided };
        }, cancellationToken);
    }

    /// <summary>A completed sale by its id (the receipt number), or null.</summary>
    public Task<SaleCompletedV2?> FindSaleAsync(string saleId, CancellationToken cancellationToken) =>
        FindSaleAsync("sale_id", saleId, cancellationToken);

    /// <summary>
    /// Takes goods back against a receipt: each line at what it cost after promotions, never more than was sold
    /// less what came back before; refunded to the card that paid (when <paramref name="toCard"/>) or in cash.
    /// The member's points for the refunded amount are taken back.
    /// </summary>
    public async Task<ReturnReceipt> ReturnAsync(string tillId, string staffId, string saleId, IReadOnlyList<(int LineNo, decimal Quantity)> lines, string reason, bool toCard,
        CancellationToken cancellationToken)
    {
        Require(tillId, "till id");
        Require(staffId, "staff id");
        Require(reason, "reason");
        ArgumentNullException.ThrowIfNull(lines);
        if (lines.Count == 0)
        {
            throw new RetailException(RetailProblem.Invalid, "Name at least one line of the receipt to return.");
        }

        using var held = await _locks.AcquireAsync("sale:" + saleId, cancellationToken);
        var sale = await FindSaleAsync(saleId, cancellationToken) ?? throw new RetailException(RetailProblem.NotFound, $"No sale {saleId} in this store.");
        var before = await ReturnedAsync(saleId, cancellationToken);
        var returned = new List<SaleLineV1>();
        foreach (var (no, quantity) in lines)
        {
            var line = sale.Lines.FirstOrDefault(l => l.No == no) ?? throw new RetailException(RetailProblem.NotFound, $"Sale {saleId} has no line {no}.");
            var left = line.Quantity - before.GetValueOrDefault(no) - returned.Where(r => r.No == no).Sum(r => r.Quantity);
            var isWeighed = line.Quantity != decimal.Truncate(line.Quantity);
            if (quantity <= 0 || quantity > left || (!isWeighed && quantity != decimal.Truncate(quantity)))
            {
                throw new RetailException(RetailProblem.Invalid, $"Line {no} ({line.Name}): {quantity} cannot be returned; {left:0.###} of it can.");
            }

            var paid = Math.Round(line.Paid * quantity / line.Quantity, Currency.Decimals, Options.Taxes.Rounding);
            returned.Add(line with { Quantity = quantity, Amount = Math.Round(line.UnitPrice * quantity, Currency.Decimals, Options.Taxes.Rounding), Paid = paid });
        }

        var refund = returned.Sum(r => r.Paid);
        SaleTenderV1 tender;
        if (toCard)
        {
            var card = sale.Tenders.FirstOrDefault(t => t.Kind == "card") ?? throw new RetailException(RetailProblem.Invalid, $"Sale {saleId} was not paid by card; refund in cash.");
            tender = new SaleTenderV1("card", refund, CardToken: card.CardToken, CardLast4: card.CardLast4);
        }
        else
        {
            tender = new SaleTenderV1("cash", refund);
        }

        var member = sale.Member is { Known: true } m ? m.MemberId : null;
        var points = member is null ? 0 : Math.Min(sale.Member!.PointsEarned, (long)decimal.Floor(refund) * loyalty.Options.PointsPerUnit);
        return await RecordReturnAsync(tillId, staffId, saleId, reason, returned, refund, tender, member, points, cancellationToken);
    }

    /// <summary>Takes goods back without a receipt: at today's shelf price (no promotions), in cash, up to a limit.</summary>
    public async Task<ReturnReceipt> ReturnWithoutReceiptAsync(string tillId, string staffId, IReadOnlyList<(string Scanned, decimal? Quantity)> items, string reason,
        CancellationToken cancellationToken)
    {
        Require(tillId, "till id");
        Require(staffId, "staff id");
        Require(reason, "reason");
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            throw new RetailException(RetailProblem.Invalid, "Scan at least one item to return.");
        }

        var lines = new List<SaleLineV1>();
        foreach (var (scanned, quantity) in items)
        {
            var item = await pricing.ResolveAsync(scanned, quantity, time.GetUtcNow(), cancellationToken);
            var amount = Math.Round(item.Line.UnitPrice.Amount * item.Line.Quantity, Currency.Decimals, Options.Taxes.Rounding);
            lines.Add(new SaleLineV1(0, item.Line.Gtin.Value, item.Product.Name, item.Line.Quantity, item.Line.UnitPrice.Amount, amount, amount, item.Line.TaxClass, item.Source));
        }

        var refund = lines.Sum(l => l.Paid);
        if (refund > Options.MaxRefundWithoutReceipt)
        {
            throw new RetailException(RetailProblem.Refused,
                $"A return without receipt refunds at most {Options.MaxRefundWithoutReceipt.ToString("0.00", CultureInfo.InvariantCulture)} {Currency.Code}; these items come to {refund.ToString("0.00", CultureInfo.InvariantCulture)}.");
        }

        return await RecordReturnAsync(tillId, staffId, null, reason, lines, refund, new SaleTenderV1("cash", refund), null, 0, cancellationToken);
    }

    /// <summary>
    /// Forwards card payments approved offline to the payment host once it answers, recording each outcome, a thousand
    /// at a time until none is left (a fortnight offline leaves thousands: they go in one run, not a thousand per run).
    /// Returns how many were forwarded; those the host still cannot take stay for the next run.
    /// </summary>
    public async Task<int> ForwardOfflineApprovalsAsync(CancellationToken cancellationToken)
    {
        const int Page = 1000;
        var count = 0;
        for (var pages = 0; pages < 10_000; pages++)
        {
            var pending = await PendingOfflineApprovalsAsync(Page, cancellationToken);
            foreach (var (saleId, token, code, amount) in pending)
            {
                if (await terminal.ForwardAsync(token, code, new Money(amount, Currency), cancellationToken) is not { } accepted)
                {
                    return count; // the host is unreachable again: the rest wait for the next run
                }

                var forwarded = await log.AppendAsync(new NewEvent
                {
                    Topic = CheckoutEvents.PaymentsTopic,
                    Type = CheckoutEvents.OfflineApprovalForwarded,
                    Key = saleId,
                    Scope = Scope.Store(store.StoreId),
                    Payload = NewEvent.Json(new OfflineApprovalForwardedV1(saleId, token, amount, accepted, accepted ? "accepted" : "declined by the host"),
                        CheckoutJsonContext.Default.OfflineApprovalForwardedV1),
                }, cancellationToken);
                await projected(CheckoutProjection.ConsumerName, forwarded.Seq, cancellationToken); // so the next page does not forward it again
                count++;
            }

            if (pending.Count < Page)
            {
                break;
            }
        }

        return count;
    }

    /// <summary>Card payments approved offline and not yet forwarded to the payment host (as far as the read model has come).</summary>
    public async Task<long> OfflineApprovalsPendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM checkout_offline WHERE forwarded = 0";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private async Task<List<(string SaleId, string Token, string Code, decimal Amount)>> PendingOfflineApprovalsAsync(int limit, CancellationToken cancellationToken)
    {
        var pending = new List<(string SaleId, string Token, string Code, decimal Amount)>();
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sale_id, card_token, auth_code, amount FROM checkout_offline WHERE forwarded = 0 ORDER BY sale_id LIMIT " + limit.ToString(CultureInfo.InvariantCulture);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), decimal.Parse(reader.GetString(3), CultureInfo.InvariantCulture)));
        }

        return pending;
    }

    private async Task<ReturnReceipt> RecordReturnAsync(string tillId, string staffId, string? saleId, string reason, IReadOnlyList<SaleLineV1> lines, decimal refund,
        SaleTenderV1 tender, string? memberId, long points, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = "R" + Guid.CreateVersion7(now).ToString("N");
        var record = new ReturnCompletedV1(id, saleId, store.StoreId, tillId, staffId, reason, now, Currency.Code, lines, refund, tender, memberId, points);
        var slip = Receipt.Of(record, store.LocalTime(now), Options.StoreName);
        List<NewEvent> events =
        [
            new() { Topic = CheckoutEvents.SalesTopic, Type = CheckoutEvents.ReturnCompleted, Key = id, Scope = Scope.Store(store.StoreId), Payload = NewEvent.Json(record, CheckoutJsonContext.Default.ReturnCompletedV1) },
            new() { Topic = CheckoutEvents.ReceiptsTopic, Type = CheckoutEvents.ReceiptIssued, Key = id, Scope = Scope.Store(store.StoreId), Payload = NewEvent.Json(new ReceiptIssuedV1(id, slip), CheckoutJsonContext.Default.ReceiptIssuedV1) },
        ];
        if (memberId is not null && points > 0)
        {
            events.Add(new NewEvent
            {
                Topic = LoyaltyEvents.LoyaltyTopic,
                Type = LoyaltyEvents.PointsEarned,
                Key = memberId,
                Scope = Scope.Store(store.StoreId),
                Payload = NewEvent.Json(new PointsDeltaV1(memberId, -points, id), LoyaltyJsonContext.Default.PointsDeltaV1),
            });
        }

        await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
        return new ReturnReceipt(record, slip);
    }

    private List<NewEvent> SaleEvents(SaleCompletedV2 sale, string receipt, KnownMember? member, long earned, long redeemed, decimal eligible)
    {
        var scope = Scope.Store(store.StoreId);
        List<NewEvent> events =
        [
            CheckoutEvents.SaleCompletedEvent(sale, Options.EventVersions),
            new() { Topic = CheckoutEvents.ReceiptsTopic, Type = CheckoutEvents.ReceiptIssued, Key = sale.SaleId, Scope = scope, Payload = NewEvent.Json(new ReceiptIssuedV1(sale.SaleId, receipt), CheckoutJsonContext.Default.ReceiptIssuedV1) },
        ];
        if (member is not null && earned != 0)
        {
            events.Add(Delta(LoyaltyEvents.PointsEarned, member.MemberId, earned, sale.SaleId, scope));
        }
        else if (member is null && sale.Member is { } unknown)
        {
            events.Add(new NewEvent
            {
                Topic = LoyaltyEvents.LoyaltyTopic,
                Type = LoyaltyEvents.SaleToSettle,
                Key = unknown.Presented,
                Scope = scope,
                Payload = NewEvent.Json(new SaleToSettleV1(unknown.Presented, sale.SaleId, eligible, sale.Currency), LoyaltyJsonContext.Default.SaleToSettleV1),
            });
        }

        if (redeemed > 0)
        {
            events.Add(Delta(LoyaltyEvents.PointsRedeemed, member!.MemberId, redeemed, sale.SaleId, scope)); // last: its sequence is the redemption's
        }

        return events;
    }

    private static NewEvent Delta(string type, string memberId, long points, string saleId, Scope scope) => new()
    {
        Topic = LoyaltyEvents.LoyaltyTopic,
        Type = type,
        Key = memberId,
        Scope = scope,
        Payload = NewEvent.Json(new PointsDeltaV1(memberId, points, saleId), LoyaltyJsonContext.Default.PointsDeltaV1),
    };

    private async Task<(BasketState State, decimal Due)> FreezeForTenderAsync(BasketState state, CancellationToken cancellationToken)
    {
        if (state.Status is BasketStatus.Completed or BasketStatus.Voided)
        {
            throw new RetailException(RetailProblem.Conflict, $"Basket {state.Id} is already {state.Status.ToString().ToLowerInvariant()}.");
        }

        var frozen = state;
        if (state.Frozen is null)
        {
            if (!state.Items.Any(i => !i.Voided))
            {
                throw new RetailException(RetailProblem.Conflict, "The basket is empty: scan items before taking payment.");
            }

            var at = time.GetUtcNow();
            frozen = state with { Status = BasketStatus.Tendering, FrozenAt = at, Frozen = await PriceAsync(state, at, await MemberAsync(state, cancellationToken), cancellationToken) };
        }

        var due = frozen.Frozen!.Total - frozen.Tenders.Sum(t => t.Amount);
        return (frozen, due);
    }

    /// <summary>The basket's member as this store knows them; null when none was presented or the card is unknown here.</summary>
    private Task<KnownMember?> MemberAsync(BasketState state, CancellationToken cancellationToken) =>
        state.MemberPresented is { } presented ? loyalty.IdentifyAsync(presented, cancellationToken) : Task.FromResult<KnownMember?>(null);

    private async Task<PricedSnapshot> PriceAsync(BasketState state, DateTimeOffset at, KnownMember? member, CancellationToken cancellationToken)
    {
        var live = state.Items.Where(i => !i.Voided).ToList();
        var lines = live.Select(i => new BasketLine(Gtin.Parse(i.Gtin), i.Category, i.Quantity, new Money(i.UnitPrice, Currency), i.Weighed, i.TaxClass)).ToList();
        var customer = member is null ? null : new Customer(member.MemberId, member.Segments);
        var priced = pricing.Price(lines, await promotions.GetAsync(cancellationToken), at, customer);
        var rounding = Options.Taxes.Rounding;
        TaxBreakdown tax;
        try
        {
            tax = Options.Taxes.Compute([.. lines.Select((l, i) => (l.TaxClass, priced.LineAmounts[i]))], Currency);
        }
        catch (InvalidOperationException ex)
        {
            throw new RetailException(RetailProblem.Conflict, ex.Message + " Fix the store's tax table.", ex);
        }

        return new PricedSnapshot(
            [.. live.Select((item, i) => SaleLine(item, Math.Round(priced.LineAmounts[i], Currency.Decimals, rounding)))],
            [.. priced.Applied.Select(a => new SalePromotionV1(a.PromotionId, a.Name, [.. a.Used.Select(u => new SaleUnitsV1(u.Gtin.Value, u.Units))], a.Saving.Amount))],
            priced.Subtotal.Amount, priced.Saving.Amount, priced.Total.Amount,
            [.. tax.Classes.Select(c => new SaleTaxV1(c.TaxClass, c.Rate, c.Net.Amount, c.Tax.Amount))], tax.Total.Amount);
    }

    private SaleLineV1 SaleLine(BasketItem item, decimal paid) =>
        new(item.No, item.Gtin, item.Name, item.Quantity, item.UnitPrice, Math.Round(item.UnitPrice * item.Quantity, Currency.Decimals, Options.Taxes.Rounding), paid, item.TaxClass, item.PriceSource);

    private async Task<BasketView> ViewAsync(BasketState state, CancellationToken cancellationToken)
    {
        var member = await MemberAsync(state, cancellationToken);
        var priced = state.Frozen ?? await PriceAsync(state, time.GetUtcNow(), member, cancellationToken);
        var paid = state.Tenders.Sum(t => t.Amount);
        var notices = new List<string>();
        if (state.MemberPresented is not null && member is null)
        {
            notices.Add("This loyalty card is not known in this store yet: the sale goes ahead with product promotions; HQ will add the points and any personal offers later.");
        }

        return new BasketView(state.Id, state.Status, priced.Lines, [.. state.Items.Where(i => i.Voided).Select(i => SaleLine(i, 0m))], priced.Promotions,
            priced.Subtotal, priced.Saving, priced.Total, priced.Taxes, priced.TaxTotal, state.Tenders, paid, Math.Max(0, priced.Total - paid),
            state.Tenders.Where(t => t.Kind == "cash").Sum(t => t.Tendered!.Value - t.Amount),
            state.MemberPresented is null ? null : new BasketMember(state.MemberPresented, member?.MemberId, member?.Name, member?.Balance, member is not null),
            Currency.Code, state.SaleId, notices);
    }

    private async Task<BasketView> ChangeAsync(string basketId, Func<BasketState, Task<BasketState>> change, CancellationToken cancellationToken)
    {
        using var held = await _locks.AcquireAsync(basketId, cancellationToken);
        var state = await LoadAsync(basketId, cancellationToken);
        var changed = await change(state);
        await SaveAsync(changed, cancellationToken);
        return await ViewAsync(changed, cancellationToken);
    }

    private async Task<BasketState> LoadAsync(string basketId, CancellationToken cancellationToken) =>
        await baskets.LoadAsync(basketId ?? string.Empty, cancellationToken) ?? throw new RetailException(RetailProblem.NotFound, $"No basket {basketId} in this store.");

    private async Task SaveAsync(BasketState state, CancellationToken cancellationToken) =>
        await baskets.SaveAsync(state with { Version = state.Version + 1 }, time.GetUtcNow(), cancellationToken);

    /// <summary>The sale recorded with an idempotency key, or null.</summary>
    private async Task<SaleCompletedV2?> FindSaleByKeyAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        long before;
        lock (_recordedGate)
        {
            if (_recorded.TryGetValue(idempotencyKey, out var sale))
            {
                return sale;
            }

            before = _recordedBefore;
        }

        await projected(CheckoutProjection.ConsumerName, before, cancellationToken);
        return await QuerySaleAsync("idempotency_key", idempotencyKey, cancellationToken);
    }

    private void Remember(SaleCompletedV2 sale)
    {
        lock (_recordedGate)
        {
            if (_recorded.Count >= RememberedSales)
            {
                // Start again: every sale forgotten here was appended before the head read now, so a lookup waits
                // for the read model to reach it.
                _recorded.Clear();
                _recordedBefore = log.Head;
            }

            _recorded[sale.IdempotencyKey] = sale;
        }
    }

    /// <summary>A completed sale, from the read model once it has caught up with the log (so a sale recorded just before a restart counts).</summary>
    private async Task<SaleCompletedV2?> FindSaleAsync(string column, string value, CancellationToken cancellationToken)
    {
        await projected(CheckoutProjection.ConsumerName, log.Head, cancellationToken);
        return await QuerySaleAsync(column, value, cancellationToken);
    }

    private async Task<SaleCompletedV2?> QuerySaleAsync(string column, string value, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT sale FROM checkout_sales WHERE {column} = $value";
        command.With("$value", value);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? CheckoutProjection.ReadSale(json) : null;
    }

    /// <summary>What came back of each line of a sale so far.</summary>
    private async Task<Dictionary<int, decimal>> ReturnedAsync(string saleId, CancellationToken cancellationToken)
    {
        await projected(CheckoutProjection.ConsumerName, log.Head, cancellationToken);
        var returned = new Dictionary<int, decimal>();
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT line_no, quantity FROM checkout_returned WHERE sale_id = $id";
        command.With("$id", saleId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            returned[reader.GetInt32(0)] = decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
        }

        return returned;
    }

    private static BasketItem Line(BasketState state, int lineNo) =>
        state.Items.FirstOrDefault(i => i.No == lineNo && !i.Voided) ?? throw new RetailException(RetailProblem.NotFound, $"Basket {state.Id} has no live line {lineNo}.");

    private static long PointsOf(BasketState state) => state.Tenders.Where(t => t.Kind == "points").Sum(t => t.Points ?? 0);

    private static void RequireStatus(BasketState state, BasketStatus status, string action)
    {
        if (state.Status != status)
        {
            throw new RetailException(RetailProblem.Conflict, state.Status == BasketStatus.Tendering
                ? $"Payment has started on basket {state.Id}: void the basket to {action}."
                : $"Basket {state.Id} is {state.Status.ToString().ToLowerInvariant()}: it is too late to {action}.");
        }
    }

    private static void Require(string? value, string what)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 100)
        {
            throw new RetailException(RetailProblem.Invalid, $"A {what} is required (1 to 100 characters).");
        }
    }
}
