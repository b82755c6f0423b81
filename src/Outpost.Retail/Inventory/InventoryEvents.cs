using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Inventory;

/// <summary>Topics and event types of the inventory and availability context; written by the store, sent up.</summary>
public static class InventoryEvents
{
    /// <summary>Stock counts and availability marks.</summary>
    public const string StockTopic = "stock";

    /// <summary>Staff counted a product's stock (a handheld count or a delivery).</summary>
    public const string StockCounted = "StockCounted";

    /// <summary>Staff marked a product or an ingredient out of stock, or back in.</summary>
    public const string AvailabilityMarked = "AvailabilityMarked";

    /// <summary>A product (by GTIN).</summary>
    public const string Product = "product";

    /// <summary>An ingredient of menu recipes (by name, for example <c>bacon</c>).</summary>
    public const string Ingredient = "ingredient";
}

/// <summary>Version 1 of <c>StockCounted</c>: the quantity on hand now (units or kilograms).</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Quantity">On hand.</param>
/// <param name="By">Who counted.</param>
public sealed record StockCountedV1(string Gtin, decimal Quantity, string By);

/// <summary>Version 1 of <c>AvailabilityMarked</c>.</summary>
/// <param name="Kind"><c>product</c> or <c>ingredient</c>.</param>
/// <param name="Id">A GTIN or an ingredient name.</param>
/// <param name="Available">False: out of stock; true: back in.</param>
/// <param name="By">Who marked it.</param>
public sealed record AvailabilityMarkedV1(string Kind, string Id, bool Available, string By);

/// <summary>Source-generated JSON for the inventory events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StockCountedV1))]
[JsonSerializable(typeof(AvailabilityMarkedV1))]
public sealed partial class InventoryJsonContext : JsonSerializerContext;
