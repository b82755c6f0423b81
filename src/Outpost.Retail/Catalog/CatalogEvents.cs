using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Catalog;

/// <summary>Topics and event types of the catalog context. HQ writes them; stores receive them (scoped).</summary>
public static class CatalogEvents
{
    /// <summary>Products, compacted by GTIN.</summary>
    public const string ProductsTopic = "products";

    /// <summary>Menu items and their recipes, compacted by code.</summary>
    public const string MenuTopic = "menu";

    /// <summary>A product was created or changed.</summary>
    public const string ProductUpserted = "ProductUpserted";

    /// <summary>A product left the range.</summary>
    public const string ProductRetired = "ProductRetired";

    /// <summary>A menu item was created or changed.</summary>
    public const string MenuItemUpserted = "MenuItemUpserted";
}

/// <summary>How a product is sold.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SaleUnit>))]
public enum SaleUnit
{
    /// <summary>By the piece.</summary>
    Each = 0,

    /// <summary>By weight, in kilograms.</summary>
    Kilogram = 1,
}

/// <summary>Version 1 of <c>ProductUpserted</c>: the whole product, so the newest event per GTIN is the product.</summary>
/// <param name="Gtin">The 14-digit GTIN.</param>
/// <param name="Name">The name shown on labels, tills and screens.</param>
/// <param name="Category">The category (for category promotions and menus).</param>
/// <param name="TaxClass">The tax class (for example <c>standard</c>, <c>reduced</c>).</param>
/// <param name="Unit">Each or kilogram.</param>
/// <param name="ImageUrl">An optional image.</param>
/// <param name="Attributes">Free attributes (brand, allergens, size).</param>
public sealed record ProductUpsertedV1(string Gtin, string Name, string Category, string TaxClass, SaleUnit Unit, string? ImageUrl, IReadOnlyDictionary<string, string>? Attributes);

/// <summary>Version 1 of <c>ProductRetired</c>.</summary>
/// <param name="Gtin">The 14-digit GTIN.</param>
public sealed record ProductRetiredV1(string Gtin);

/// <summary>One ingredient of a recipe.</summary>
/// <param name="Ingredient">The ingredient's code (for example <c>bacon</c>).</param>
/// <param name="Required">Required: the item cannot be made without it. Optional: it is left out.</param>
public sealed record RecipeLine(string Ingredient, bool Required);

/// <summary>Version 1 of <c>MenuItemUpserted</c>: a food-service item and its recipe.</summary>
/// <param name="Code">The item's code (or its GTIN).</param>
/// <param name="Name">Its name on menu boards and kiosks.</param>
/// <param name="Category">Its menu category.</param>
/// <param name="TaxClass">Its tax class.</param>
/// <param name="Recipe">The ingredients, required or optional.</param>
/// <param name="ImageUrl">An optional image.</param>
public sealed record MenuItemUpsertedV1(string Code, string Name, string Category, string TaxClass, IReadOnlyList<RecipeLine> Recipe, string? ImageUrl);

/// <summary>Source-generated JSON for the catalog's events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProductUpsertedV1))]
[JsonSerializable(typeof(ProductRetiredV1))]
[JsonSerializable(typeof(MenuItemUpsertedV1))]
[JsonSerializable(typeof(IReadOnlyList<RecipeLine>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
public sealed partial class CatalogJsonContext : JsonSerializerContext;
