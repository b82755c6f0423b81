using Outpost.Retail.Promotions;

namespace Outpost.Store.Api;

/// <summary>Opening a basket.</summary>
/// <param name="StaffId">Who serves, if known.</param>
public sealed record OpenBasketRequest(string? StaffId);

/// <summary>Scanning an item.</summary>
/// <param name="Code">A GTIN, an in-store barcode or a weighed item's code.</param>
/// <param name="Quantity">Units, or kilograms for a weighed item; 1 when absent.</param>
public sealed record AddLineRequest(string Code, decimal? Quantity);

/// <summary>Changing a line's quantity.</summary>
/// <param name="Quantity">Units or kilograms.</param>
public sealed record QuantityRequest(decimal Quantity);

/// <summary>A loyalty card or app code.</summary>
/// <param name="Code">The card number or the app's QR code.</param>
public sealed record MemberRequest(string Code);

/// <summary>A payment.</summary>
/// <param name="Method"><c>cash</c>, <c>card</c> or <c>points</c>.</param>
/// <param name="Amount">Cash handed over, or a card amount (all that is due when absent).</param>
/// <param name="Points">Points to redeem.</param>
public sealed record PaymentRequestBody(string Method, decimal? Amount, long? Points);

/// <summary>Completing a sale.</summary>
/// <param name="IdempotencyKey">The same for every retry of this completion.</param>
public sealed record CompleteRequest(string IdempotencyKey);

/// <summary>Voiding a basket.</summary>
/// <param name="StaffId">Who voids it.</param>
/// <param name="Reason">Why.</param>
public sealed record VoidRequest(string StaffId, string Reason);

/// <summary>A returned line of a receipt.</summary>
/// <param name="LineNo">The receipt's line number.</param>
/// <param name="Quantity">How many (or how much) come back.</param>
public sealed record ReturnLine(int LineNo, decimal Quantity);

/// <summary>A returned item without receipt.</summary>
/// <param name="Code">What was scanned.</param>
/// <param name="Quantity">How many.</param>
public sealed record ReturnItem(string Code, decimal? Quantity);

/// <summary>A return: with a receipt (<c>saleId</c> and <c>lines</c>) or without (<c>items</c>).</summary>
/// <param name="StaffId">Who accepts it.</param>
/// <param name="Reason">Why.</param>
/// <param name="SaleId">The receipt's sale.</param>
/// <param name="Lines">The receipt's lines that come back.</param>
/// <param name="Items">Items without receipt.</param>
/// <param name="ToCard">Refund to the card that paid.</param>
public sealed record ReturnRequest(string StaffId, string Reason, string? SaleId, IReadOnlyList<ReturnLine>? Lines, IReadOnlyList<ReturnItem>? Items, bool ToCard = false);

/// <summary>Placing an order.</summary>
/// <param name="Lines">The menu items.</param>
/// <param name="CustomerName">A name to call.</param>
/// <param name="Source"><c>kiosk</c>, <c>mobile</c> or <c>till</c>; by default the device's role.</param>
/// <param name="IdempotencyKey">
/// The same for every retry of one order from this device (1 to 100 characters): a retry answers with the order the
/// first try placed. Without one, every request is a new order (a retry after a lost answer places it twice).
/// </param>
public sealed record PlaceOrderRequest(IReadOnlyList<Retail.Orders.OrderRequestLine> Lines, string? CustomerName, string? Source, string? IdempotencyKey = null);

/// <summary>Moving an order on.</summary>
/// <param name="Status">preparing, ready, collected or cancelled.</param>
public sealed record OrderStatusRequest(string Status);

/// <summary>A stock count.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Quantity">On hand.</param>
public sealed record StockCountRequest(string Gtin, decimal Quantity);

/// <summary>Marking something out of stock or back in.</summary>
/// <param name="Kind"><c>product</c> or <c>ingredient</c>.</param>
/// <param name="Id">A GTIN or an ingredient.</param>
/// <param name="Available">False: out; true: back in.</param>
public sealed record AvailabilityRequest(string Kind, string Id, bool Available);

/// <summary>A store campaign price.</summary>
/// <param name="Id">The campaign.</param>
/// <param name="Gtin">The product.</param>
/// <param name="Amount">The price.</param>
/// <param name="From">Start, store-local.</param>
/// <param name="To">End, store-local.</param>
/// <param name="CreatedBy">Staff id.</param>
public sealed record CampaignPriceRequest(string Id, string Gtin, decimal Amount, DateTime From, DateTime To, string CreatedBy);

/// <summary>A store campaign promotion.</summary>
/// <param name="Id">The campaign.</param>
/// <param name="Promotion">The promotion.</param>
/// <param name="From">Start, store-local.</param>
/// <param name="To">End, store-local.</param>
/// <param name="CreatedBy">Staff id.</param>
public sealed record CampaignPromotionRequest(string Id, PromotionDefinitionV1 Promotion, DateTime From, DateTime To, string CreatedBy);

/// <summary>Enrolling a device.</summary>
/// <param name="Name">What staff call it.</param>
/// <param name="Role">Its role.</param>
public sealed record EnrolRequest(string Name, string Role);

/// <summary>A pairing code asked for in the back office.</summary>
/// <param name="Name">What staff will call the device.</param>
/// <param name="Role">Its role.</param>
/// <param name="Minutes">How long the code works (1 to 60; default 10).</param>
public sealed record PairingRequest(string Name, string Role, int? Minutes);

/// <summary>A device exchanging its pairing code.</summary>
/// <param name="Code">The code (digits; a dash or spaces are ignored).</param>
/// <param name="Credential">"cookie" (a page: an HttpOnly cookie, the default) or "body" (a device that is not a browser keeps the token it is given).</param>
public sealed record PairRequest(string Code, string? Credential);

/// <summary>A paired device.</summary>
/// <param name="Device">The device.</param>
/// <param name="Page">The page for its role.</param>
/// <param name="Token">Its token, only when asked for in the body.</param>
public sealed record Paired(Devices.Device Device, string Page, string? Token);

/// <summary>A device heartbeat.</summary>
/// <param name="AppVersion">What the page or app runs.</param>
public sealed record HeartbeatRequest(string? AppVersion);

/// <summary>A product as a price check, a handheld or a label shows it.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Name">Its name.</param>
/// <param name="Category">Its category.</param>
/// <param name="Unit"><c>each</c> or <c>kg</c>.</param>
/// <param name="ShelfPrice">Its price before promotions.</param>
/// <param name="Price">Its price with the promotions that apply to one unit.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="PriceSource"><c>hq</c> or <c>campaign &lt;id&gt;</c>.</param>
/// <param name="Promotions">Promotions that apply to it (names).</param>
/// <param name="Available">In stock.</param>
public sealed record ProductLabel(string Gtin, string Name, string Category, string Unit, decimal ShelfPrice, decimal Price, string Currency, string PriceSource,
    IReadOnlyList<string> Promotions, bool Available);

/// <summary>A label that was printed.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Price">The price printed on it.</param>
public sealed record PrintedLabel(string Gtin, decimal Price);

/// <summary>A card tapped at the entrance gate.</summary>
/// <param name="Code">The loyalty card number or app code.</param>
public sealed record GateEnterRequest(string Code);

/// <summary>A shopper leaving with what the store's sensors saw them take.</summary>
/// <param name="VisitId">The visit from the entrance.</param>
/// <param name="Items">What they took.</param>
public sealed record GateExitRequest(string VisitId, IReadOnlyList<ReturnItem>? Items);

/// <summary>The device a page is signed in as.</summary>
/// <param name="DeviceId">Its id.</param>
/// <param name="Name">What staff call it.</param>
/// <param name="Role">Its role.</param>
/// <param name="Page">The page for its role.</param>
public sealed record WhoAmI(string DeviceId, string Name, string Role, string Page);
