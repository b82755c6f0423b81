using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Core.Events;

namespace Outpost.Retail.Checkout;

/// <summary>Topics and event types of the checkout context; all written by the store and sent up.</summary>
public static class CheckoutEvents
{
    /// <summary>Completed sales, voided baskets and returns: the first to drain up.</summary>
    public const string SalesTopic = "sales";

    /// <summary>Electronic receipts.</summary>
    public const string ReceiptsTopic = "receipts";

    /// <summary>Offline card approvals forwarded to the payment host.</summary>
    public const string PaymentsTopic = "payments";

    /// <summary>A sale was paid and completed; the till was told "done" only after this was durable.</summary>
    public const string SaleCompleted = "SaleCompleted";

    /// <summary>A basket was abandoned after lines were scanned (a void), with who and why.</summary>
    public const string SaleVoided = "SaleVoided";

    /// <summary>Goods came back, with or without the receipt.</summary>
    public const string ReturnCompleted = "ReturnCompleted";

    /// <summary>The electronic copy of a receipt.</summary>
    public const string ReceiptIssued = "ReceiptIssued";

    /// <summary>A card payment approved offline was forwarded to the payment host, with its outcome.</summary>
    public const string OfflineApprovalForwarded = "OfflineApprovalForwarded";

    /// <summary>
    /// The version of <c>SaleCompleted</c> this release writes (2: with the business day). The previous release wrote
    /// 1; this one reads both (<see cref="ReadSaleCompleted"/>), and writes 1 when told to (<see cref="EventVersions.Previous"/>).
    /// </summary>
    public const int SaleCompletedVersion = 2;

    /// <summary>
    /// A stored <c>SaleCompleted</c> of any version this release reads, as the current version: a version 1 sale's
    /// business day is the date of its store-local time (what the previous release's readers took it to be).
    /// </summary>
    /// <exception cref="NotSupportedException">A version this release does not read (a newer one): the reader parks it.</exception>
    public static SaleCompletedV2 ReadSaleCompleted(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Version switch
        {
            1 => e.Deserialize(CheckoutJsonContext.Default.SaleCompletedV1).Upcast(),
            2 => e.Deserialize(CheckoutJsonContext.Default.SaleCompletedV2),
            _ => throw new NotSupportedException($"This release reads SaleCompleted v1 and v2, not v{e.Version}; upgrade this node to read it."),
        };
    }

    /// <summary>A <c>SaleCompleted</c> to append, in the version <paramref name="versions"/> asks for.</summary>
    public static NewEvent SaleCompletedEvent(SaleCompletedV2 sale, EventVersions versions)
    {
        ArgumentNullException.ThrowIfNull(sale);
        var previous = versions == EventVersions.Previous;
        return new()
        {
            Topic = SalesTopic, Type = SaleCompleted, Key = sale.SaleId, Scope = Scope.Store(sale.StoreId),
            Version = previous ? 1 : SaleCompletedVersion,
            Payload = previous ? NewEvent.Json(sale.Downcast(), CheckoutJsonContext.Default.SaleCompletedV1) : NewEvent.Json(sale, CheckoutJsonContext.Default.SaleCompletedV2),
        };
    }
}

/// <summary>
/// Which versions of its events a store writes. A release that adds an event version reads the old one and the new;
/// it writes the new one by default. <see cref="Previous"/> keeps writing what the previous release wrote, so that a
/// store can be rolled back to that release (which parks versions it cannot read) or can send to an HQ not yet
/// upgraded, until the release is confirmed across the fleet.
/// </summary>
public enum EventVersions
{
    /// <summary>This release's versions.</summary>
    Current,

    /// <summary>The previous release's versions.</summary>
    Previous,
}

/// <summary>Version 1 of <c>SaleCompleted</c>.</summary>
/// <param name="SaleId">The sale (also the receipt number).</param>
/// <param name="BasketId">The basket it came from.</param>
/// <param name="IdempotencyKey">The till's key for the completion: a retry with it is a no-op.</param>
/// <param name="StoreId">The store.</param>
/// <param name="TillId">The till (device).</param>
/// <param name="StaffId">Who served, when known.</param>
/// <param name="CompletedAt">When (UTC).</param>
/// <param name="LocalTime">When, store-local (what the receipt prints).</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="Lines">The lines sold.</param>
/// <param name="VoidedLines">Lines scanned then voided before payment (for loss prevention).</param>
/// <param name="Promotions">Promotions applied, the units each used and its saving.</param>
/// <param name="Subtotal">Lines at shelf prices.</param>
/// <param name="Saving">All promotions' savings.</param>
/// <param name="Total">What the customer paid.</param>
/// <param name="Taxes">Tax per class.</param>
/// <param name="TaxTotal">All tax.</param>
/// <param name="PricesIncludeTax">Whether shelf prices include tax.</param>
/// <param name="Tenders">How it was paid.</param>
/// <param name="Change">Cash given back.</param>
/// <param name="Member">The loyalty member, when one was presented.</param>
public sealed record SaleCompletedV1(
    string SaleId, string BasketId, string IdempotencyKey, string StoreId, string TillId, string? StaffId,
    DateTimeOffset CompletedAt, DateTime LocalTime, string Currency,
    IReadOnlyList<SaleLineV1> Lines, IReadOnlyList<SaleLineV1> VoidedLines, IReadOnlyList<SalePromotionV1> Promotions,
    decimal Subtotal, decimal Saving, decimal Total, IReadOnlyList<SaleTaxV1> Taxes, decimal TaxTotal, bool PricesIncludeTax,
    IReadOnlyList<SaleTenderV1> Tenders, decimal Change, SaleMemberV1? Member)
{
    /// <summary>As version 2: the business day is the date of the store-local time.</summary>
    public SaleCompletedV2 Upcast() => new(SaleId, BasketId, IdempotencyKey, StoreId, TillId, StaffId, CompletedAt, LocalTime, Currency,
        Lines, VoidedLines, Promotions, Subtotal, Saving, Total, Taxes, TaxTotal, PricesIncludeTax, Tenders, Change, Member, DateOnly.FromDateTime(LocalTime));
}

/// <summary>
/// Version 2 of <c>SaleCompleted</c>: version 1 and the store's business day. A store trading past midnight (a
/// restaurant that closes at 2 am) books a sale at 01:30 to the day that began the evening before, as its day-end
/// report does; version 1 left HQ to take the date of the store-local time.
/// </summary>
/// <param name="BusinessDay">The store's trading day of the sale (see the store's <c>BusinessDayStarts</c>).</param>
#pragma warning disable CS1573 // the other parameters are those of version 1, documented there
public sealed record SaleCompletedV2(
    string SaleId, string BasketId, string IdempotencyKey, string StoreId, string TillId, string? StaffId,
    DateTimeOffset CompletedAt, DateTime LocalTime, string Currency,
    IReadOnlyList<SaleLineV1> Lines, IReadOnlyList<SaleLineV1> VoidedLines, IReadOnlyList<SalePromotionV1> Promotions,
    decimal Subtotal, decimal Saving, decimal Total, IReadOnlyList<SaleTaxV1> Taxes, decimal TaxTotal, bool PricesIncludeTax,
    IReadOnlyList<SaleTenderV1> Tenders, decimal Change, SaleMemberV1? Member, DateOnly BusinessDay)
#pragma warning restore CS1573
{
    /// <summary>What the previous release wrote for this sale: all but the business day.</summary>
    public SaleCompletedV1 Downcast() => new(SaleId, BasketId, IdempotencyKey, StoreId, TillId, StaffId, CompletedAt, LocalTime, Currency,
        Lines, VoidedLines, Promotions, Subtotal, Saving, Total, Taxes, TaxTotal, PricesIncludeTax, Tenders, Change, Member);
}

/// <summary>A sold (or voided) line.</summary>
/// <param name="No">Line number in the basket.</param>
/// <param name="Gtin">The product.</param>
/// <param name="Name">Its name.</param>
/// <param name="Quantity">Units, or kilograms.</param>
/// <param name="UnitPrice">Shelf price per unit or kilogram.</param>
/// <param name="Amount">Quantity × unit price, rounded.</param>
/// <param name="Paid">What the line cost after promotions, rounded (what a return refunds).</param>
/// <param name="TaxClass">Tax class.</param>
/// <param name="PriceSource"><c>hq</c>, <c>campaign &lt;id&gt;</c> or <c>barcode</c>.</param>
public sealed record SaleLineV1(int No, string Gtin, string Name, decimal Quantity, decimal UnitPrice, decimal Amount, decimal Paid, string TaxClass, string PriceSource);

/// <summary>An applied promotion.</summary>
/// <param name="Id">The promotion.</param>
/// <param name="Name">Its name.</param>
/// <param name="Used">Units it used, by GTIN.</param>
/// <param name="Saving">Its saving.</param>
public sealed record SalePromotionV1(string Id, string Name, IReadOnlyList<SaleUnitsV1> Used, decimal Saving);

/// <summary>Units of a product a promotion used.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Units">Units.</param>
public sealed record SaleUnitsV1(string Gtin, int Units);

/// <summary>One tax class.</summary>
/// <param name="TaxClass">The class.</param>
/// <param name="Rate">Its rate.</param>
/// <param name="Net">Before tax.</param>
/// <param name="Tax">Tax.</param>
public sealed record SaleTaxV1(string TaxClass, decimal Rate, decimal Net, decimal Tax);

/// <summary>One tender. A card is only ever a token and its last four digits: no card number is stored.</summary>
/// <param name="Kind"><c>cash</c>, <c>card</c> or <c>points</c>.</param>
/// <param name="Amount">What it paid.</param>
/// <param name="Tendered">Cash handed over (change is the difference).</param>
/// <param name="CardToken">The terminal's token for the card.</param>
/// <param name="CardLast4">Last four digits, for the receipt.</param>
/// <param name="AuthCode">The approval code.</param>
/// <param name="Offline">Approved offline under the floor limit, to be forwarded.</param>
/// <param name="Points">Points redeemed.</param>
public sealed record SaleTenderV1(string Kind, decimal Amount, decimal? Tendered = null, string? CardToken = null, string? CardLast4 = null, string? AuthCode = null,
    bool Offline = false, long? Points = null);

/// <summary>The member of a sale.</summary>
/// <param name="Presented">The card number or app token presented.</param>
/// <param name="MemberId">The member, when the store knew them.</param>
/// <param name="Known">Whether the store's member cache knew them.</param>
/// <param name="PointsEarned">Points earned here (0 when HQ settles).</param>
/// <param name="PointsRedeemed">Points redeemed.</param>
public sealed record SaleMemberV1(string Presented, string? MemberId, bool Known, long PointsEarned, long PointsRedeemed);

/// <summary>Version 1 of <c>SaleVoided</c>.</summary>
/// <param name="BasketId">The basket.</param>
/// <param name="StoreId">The store.</param>
/// <param name="TillId">The till.</param>
/// <param name="StaffId">Who voided it.</param>
/// <param name="Reason">Why.</param>
/// <param name="VoidedAt">When (UTC).</param>
/// <param name="Lines">The lines it held.</param>
/// <param name="Reversed">Card payments reversed.</param>
public sealed record SaleVoidedV1(string BasketId, string StoreId, string TillId, string StaffId, string Reason, DateTimeOffset VoidedAt,
    IReadOnlyList<SaleLineV1> Lines, IReadOnlyList<SaleTenderV1> Reversed);

/// <summary>Version 1 of <c>ReturnCompleted</c>.</summary>
/// <param name="ReturnId">The return.</param>
/// <param name="OriginalSaleId">The sale on the receipt; null for a return without receipt.</param>
/// <param name="StoreId">The store.</param>
/// <param name="TillId">The till.</param>
/// <param name="StaffId">Who accepted it.</param>
/// <param name="Reason">Why the goods came back.</param>
/// <param name="ReturnedAt">When (UTC).</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="Lines">Returned lines (line numbers of the original sale; 0 without receipt) and what each refunded.</param>
/// <param name="Refund">The total refunded.</param>
/// <param name="Tender">How it was refunded.</param>
/// <param name="MemberId">The member whose points were taken back, if any.</param>
/// <param name="PointsReversed">Points taken back.</param>
public sealed record ReturnCompletedV1(string ReturnId, string? OriginalSaleId, string StoreId, string TillId, string StaffId, string Reason, DateTimeOffset ReturnedAt,
    string Currency, IReadOnlyList<SaleLineV1> Lines, decimal Refund, SaleTenderV1 Tender, string? MemberId, long PointsReversed);

/// <summary>Version 1 of <c>ReceiptIssued</c>: the electronic receipt.</summary>
/// <param name="SaleId">The sale or return.</param>
/// <param name="Text">The receipt as printed.</param>
public sealed record ReceiptIssuedV1(string SaleId, string Text);

/// <summary>Version 1 of <c>OfflineApprovalForwarded</c>.</summary>
/// <param name="SaleId">The sale.</param>
/// <param name="CardToken">The card's token.</param>
/// <param name="Amount">The amount.</param>
/// <param name="Accepted">Whether the payment host accepted it (false: a loss the floor limit bounded).</param>
/// <param name="Reason">The host's answer.</param>
public sealed record OfflineApprovalForwardedV1(string SaleId, string CardToken, decimal Amount, bool Accepted, string Reason);

/// <summary>Source-generated JSON for the checkout events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SaleCompletedV1))]
[JsonSerializable(typeof(SaleCompletedV2))]
[JsonSerializable(typeof(SaleVoidedV1))]
[JsonSerializable(typeof(ReturnCompletedV1))]
[JsonSerializable(typeof(ReceiptIssuedV1))]
[JsonSerializable(typeof(OfflineApprovalForwardedV1))]
[JsonSerializable(typeof(BasketState))]
public sealed partial class CheckoutJsonContext : JsonSerializerContext;
