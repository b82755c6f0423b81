using System.Text.Json;
using Outpost.Retail.Catalog;
using Outpost.Retail.Promotions;

namespace Outpost.Central.MasterData;

/// <summary>A product as the admin API takes it.</summary>
/// <param name="Gtin">Its GTIN (8, 12, 13 or 14 digits with a valid check digit).</param>
/// <param name="Name">Its name on labels and receipts.</param>
/// <param name="Category">Its category (promotions can target it).</param>
/// <param name="TaxClass">Its tax class.</param>
/// <param name="Unit"><c>Each</c> or <c>Kilogram</c>.</param>
/// <param name="ImageUrl">A picture for kiosks and menu boards.</param>
/// <param name="Attributes">Free attributes (brand, size, allergens).</param>
public sealed record ProductBody(string? Gtin, string? Name, string? Category, string? TaxClass, SaleUnit Unit = SaleUnit.Each, string? ImageUrl = null,
    IReadOnlyDictionary<string, string>? Attributes = null);

/// <summary>A menu item with its recipe.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Category">Its menu category.</param>
/// <param name="TaxClass">Its tax class.</param>
/// <param name="Recipe">Ingredients, each required or optional.</param>
/// <param name="ImageUrl">A picture.</param>
public sealed record MenuItemBody(string? Name, string? Category, string? TaxClass, IReadOnlyList<RecipeLine>? Recipe, string? ImageUrl = null);

/// <summary>A price for a scope from a store-local moment.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Amount">The price.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="From">First store-local moment it applies.</param>
/// <param name="To">Store-local moment it stops; null: until replaced.</param>
/// <param name="Scope"><c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.</param>
public sealed record PriceBody(string? Gtin, decimal Amount, string? Currency, DateTime From, DateTime? To, string? Scope);

/// <summary>A promotion for a scope.</summary>
/// <param name="Scope"><c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.</param>
/// <param name="Currency">The currency of its amounts.</param>
/// <param name="Promotion">The definition (the same format as scenario files).</param>
public sealed record PromotionBody(string? Scope, string? Currency, PromotionDefinitionV1? Promotion);

/// <summary>A store setting for a scope.</summary>
/// <param name="Scope"><c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.</param>
/// <param name="Value">Any JSON value.</param>
public sealed record ConfigBody(string? Scope, JsonElement Value);

/// <summary>One thing wrong with one row of an import, or one field of a request.</summary>
/// <param name="Row">The row (line of a CSV file, 1-based index in a JSON array); 0 for a single request.</param>
/// <param name="Field">The field.</param>
/// <param name="Message">What is wrong.</param>
public sealed record FieldError(int Row, string Field, string Message);

/// <summary>What an import or a change did.</summary>
/// <param name="Events">Events published.</param>
/// <param name="FirstSeq">The first one's sequence in HQ's log.</param>
/// <param name="LastSeq">The last one's.</param>
public sealed record Applied(int Events, long FirstSeq, long LastSeq);

/// <summary>One entry of the audit trail.</summary>
/// <param name="Seq">The event's sequence in HQ's log.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who (the admin token's name).</param>
/// <param name="Topic">The topic.</param>
/// <param name="Type">The event type.</param>
/// <param name="Key">The entity.</param>
/// <param name="Scope">The scope.</param>
public sealed record AuditEntry(long Seq, DateTimeOffset At, string Actor, string Topic, string Type, string Key, string Scope);
