namespace Outpost.Retail.Checkout;

/// <summary>Where a basket is in its life.</summary>
public enum BasketStatus
{
    /// <summary>Lines can be scanned, changed and voided.</summary>
    Open = 0,

    /// <summary>A tender was taken: prices are frozen; only more tenders, completion or a void follow.</summary>
    Tendering = 1,

    /// <summary>Paid and recorded as a sale.</summary>
    Completed = 2,

    /// <summary>Abandoned.</summary>
    Voided = 3,
}

/// <summary>A basket as the checkout context keeps it (durably, so a till survives a store server restart).</summary>
public sealed record BasketState
{
    /// <summary>The basket.</summary>
    public required string Id { get; init; }

    /// <summary>The till.</summary>
    public required string TillId { get; init; }

    /// <summary>Who is serving.</summary>
    public string? StaffId { get; init; }

    /// <summary>When it was opened.</summary>
    public required DateTimeOffset OpenedAt { get; init; }

    /// <summary>Its status.</summary>
    public BasketStatus Status { get; init; }

    /// <summary>Its lines, voided ones included.</summary>
    public IReadOnlyList<BasketItem> Items { get; init; } = [];

    /// <summary>The loyalty card or app token presented, if any.</summary>
    public string? MemberPresented { get; init; }

    /// <summary>The moment prices and promotions were frozen (the first tender).</summary>
    public DateTimeOffset? FrozenAt { get; init; }

    /// <summary>The prices and promotions frozen at the first tender.</summary>
    public PricedSnapshot? Frozen { get; init; }

    /// <summary>Tenders taken.</summary>
    public IReadOnlyList<SaleTenderV1> Tenders { get; init; } = [];

    /// <summary>The sale it became.</summary>
    public string? SaleId { get; init; }

    /// <summary>Bumped by every change.</summary>
    public long Version { get; init; }
}

/// <summary>A basket priced: lines with what they cost after promotions, promotions, totals and taxes.</summary>
/// <param name="Lines">Live lines.</param>
/// <param name="Promotions">Applied promotions.</param>
/// <param name="Subtotal">At shelf prices.</param>
/// <param name="Saving">Promotions' savings.</param>
/// <param name="Total">To pay.</param>
/// <param name="Taxes">Tax per class.</param>
/// <param name="TaxTotal">All tax.</param>
public sealed record PricedSnapshot(IReadOnlyList<SaleLineV1> Lines, IReadOnlyList<SalePromotionV1> Promotions, decimal Subtotal, decimal Saving, decimal Total,
    IReadOnlyList<SaleTaxV1> Taxes, decimal TaxTotal);

/// <summary>A scanned line.</summary>
/// <param name="No">Line number, from 1.</param>
/// <param name="Scanned">What was scanned.</param>
/// <param name="Gtin">The product.</param>
/// <param name="Name">Its name.</param>
/// <param name="Category">Its category.</param>
/// <param name="TaxClass">Its tax class.</param>
/// <param name="Quantity">Units or kilograms.</param>
/// <param name="UnitPrice">The price when scanned.</param>
/// <param name="Weighed">Sold by weight.</param>
/// <param name="PriceSource"><c>hq</c>, <c>campaign &lt;id&gt;</c> or <c>barcode</c>.</param>
/// <param name="Voided">Voided before payment.</param>
public sealed record BasketItem(int No, string Scanned, string Gtin, string Name, string Category, string TaxClass, decimal Quantity, decimal UnitPrice, bool Weighed,
    string PriceSource, bool Voided = false);

/// <summary>What a till shows: the basket priced now (or as frozen), with every promotion explained.</summary>
/// <param name="Id">The basket.</param>
/// <param name="Status">Its status.</param>
/// <param name="Lines">Live lines, with what each costs after promotions.</param>
/// <param name="Voided">Voided lines.</param>
/// <param name="Promotions">Applied promotions.</param>
/// <param name="Subtotal">At shelf prices.</param>
/// <param name="Saving">Promotions' savings.</param>
/// <param name="Total">To pay.</param>
/// <param name="Taxes">Tax per class.</param>
/// <param name="TaxTotal">All tax.</param>
/// <param name="Tenders">Tenders taken.</param>
/// <param name="Paid">What the tenders cover.</param>
/// <param name="Due">What is left to pay.</param>
/// <param name="Change">Cash to give back.</param>
/// <param name="Member">The member, when one was presented.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="SaleId">The sale, once completed.</param>
/// <param name="Notices">Things the till should tell the customer (for example an unknown loyalty card).</param>
public sealed record BasketView(string Id, BasketStatus Status, IReadOnlyList<SaleLineV1> Lines, IReadOnlyList<SaleLineV1> Voided, IReadOnlyList<SalePromotionV1> Promotions,
    decimal Subtotal, decimal Saving, decimal Total, IReadOnlyList<SaleTaxV1> Taxes, decimal TaxTotal, IReadOnlyList<SaleTenderV1> Tenders, decimal Paid, decimal Due,
    decimal Change, BasketMember? Member, string Currency, string? SaleId, IReadOnlyList<string> Notices);

/// <summary>The member of a basket.</summary>
/// <param name="Presented">What was presented.</param>
/// <param name="MemberId">The member, when known here.</param>
/// <param name="Name">Their name, when known.</param>
/// <param name="Balance">Their points balance as this store knows it.</param>
/// <param name="Known">Whether the store knows them.</param>
public sealed record BasketMember(string Presented, string? MemberId, string? Name, long? Balance, bool Known);

/// <summary>A completed sale as the till receives it: the event and the printable receipt.</summary>
/// <param name="Sale">The sale.</param>
/// <param name="Receipt">The receipt text.</param>
public sealed record SaleReceipt(SaleCompletedV2 Sale, string Receipt);

/// <summary>A completed return and its printable slip.</summary>
/// <param name="Return">The return.</param>
/// <param name="Receipt">The slip text.</param>
public sealed record ReturnReceipt(ReturnCompletedV1 Return, string Receipt);
