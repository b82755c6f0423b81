using Outpost.Retail.Catalog;
using Outpost.Retail.Inventory;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Orders;

/// <summary>An ingredient of a menu item.</summary>
/// <param name="Name">The ingredient.</param>
/// <param name="Required">Whether the item cannot be made without it.</param>
/// <param name="Available">Whether it is in stock.</param>
public sealed record MenuIngredient(string Name, bool Required, bool Available);

/// <summary>A menu item as a menu board or a kiosk shows it.</summary>
/// <param name="Code">The item (its GTIN: its price comes from the price book).</param>
/// <param name="Name">Its name.</param>
/// <param name="Category">Its category (a section of the board).</param>
/// <param name="Price">Its price now, with the promotions that apply to it alone (the label price).</param>
/// <param name="ImageUrl">A picture.</param>
/// <param name="Available">False when the item or a required ingredient is out of stock: boards hide it.</param>
/// <param name="Without">Optional ingredients out of stock: the item is served without them.</param>
/// <param name="Ingredients">Its recipe.</param>
public sealed record MenuEntry(string Code, string Name, string Category, decimal Price, string? ImageUrl, bool Available, IReadOnlyList<string> Without,
    IReadOnlyList<MenuIngredient> Ingredients);

/// <summary>
/// The menu now: the catalog's menu items, priced through the one pricing engine, with availability applied
/// ingredient by ingredient: a missing required ingredient hides an item, a missing optional one is left out.
/// </summary>
public sealed class MenuService(CatalogQueries catalog, PriceCheck pricing, PromotionCatalog promotions, InventoryService inventory, TimeProvider time)
{
    /// <summary>Every menu item with a price, available or not.</summary>
    public async Task<IReadOnlyList<MenuEntry>> MenuAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var index = await promotions.GetAsync(cancellationToken);
        var unavailable = await inventory.UnavailableAsync(cancellationToken);
        var entries = new List<MenuEntry>();
        foreach (var item in await catalog.MenuAsync(cancellationToken))
        {
            if (!Gtin.TryParse(item.Code, out var gtin, out _) || await pricing.LabelAsync(gtin.Value, index, now, cancellationToken) is not { } label)
            {
                continue; // a menu item is sold under its GTIN; without a price it is not on the menu
            }

            var ingredients = item.Recipe
                .Select(r => new MenuIngredient(r.Ingredient, r.Required, !unavailable.Ingredients.Contains(r.Ingredient.Trim().ToLowerInvariant())))
                .ToList();
            var available = !unavailable.Products.Contains(gtin.Value) && ingredients.All(i => i.Available || !i.Required);
            entries.Add(new MenuEntry(gtin.Value, item.Name, item.Category, label.Price.Amount, item.ImageUrl, available,
                [.. ingredients.Where(i => !i.Available && !i.Required).Select(i => i.Name)], ingredients));
        }

        return entries;
    }
}
