using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Retail.Catalog;

/// <summary>
/// The catalog's read model: products by GTIN (retired ones kept, flagged) and menu items with their recipes,
/// in the context's own tables, written in the consumer's transaction. Versions it does not know are
/// refused, so the runner parks them in dead letters.
/// </summary>
public sealed class CatalogProjection(ReadCache<string, Product?>? products = null) : IEventConsumer, ICommitListener
{
    /// <inheritdoc />
    public string Name => "catalog";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(CatalogEvents.ProductsTopic, CatalogEvents.MenuTopic);

    /// <inheritdoc />
    public void Committed() => products?.Invalidate();

    /// <summary>Creates the context's tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS catalog_products(
                gtin TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, tax_class TEXT NOT NULL,
                unit INTEGER NOT NULL, image_url TEXT, attributes TEXT, retired INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS catalog_menu_items(
                code TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, tax_class TEXT NOT NULL,
                recipe TEXT NOT NULL, image_url TEXT) WITHOUT ROWID;
            """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (CatalogEvents.ProductUpserted, 1):
                var product = e.Deserialize(CatalogJsonContext.Default.ProductUpsertedV1);
                var gtin = Gtin.Parse(product.Gtin);
                await transaction.ExecuteAsync("""
                    INSERT INTO catalog_products(gtin, name, category, tax_class, unit, image_url, attributes, retired)
                    VALUES($gtin, $name, $category, $tax, $unit, $image, $attributes, 0)
                    ON CONFLICT(gtin) DO UPDATE SET name = excluded.name, category = excluded.category, tax_class = excluded.tax_class,
                        unit = excluded.unit, image_url = excluded.image_url, attributes = excluded.attributes, retired = 0
                    """, cancellationToken, ("$gtin", gtin.Value), ("$name", product.Name), ("$category", product.Category), ("$tax", product.TaxClass),
                    ("$unit", (int)product.Unit), ("$image", product.ImageUrl), ("$attributes", product.Attributes is null ? null : JsonSerializer.Serialize(product.Attributes, CatalogJsonContext.Default.IReadOnlyDictionaryStringString)));
                break;
            case (CatalogEvents.ProductRetired, 1):
                var retired = e.Deserialize(CatalogJsonContext.Default.ProductRetiredV1);
                await transaction.ExecuteAsync("UPDATE catalog_products SET retired = 1 WHERE gtin = $gtin", cancellationToken, ("$gtin", Gtin.Parse(retired.Gtin).Value));
                break;
            case (CatalogEvents.MenuItemUpserted, 1):
                var item = e.Deserialize(CatalogJsonContext.Default.MenuItemUpsertedV1);
                await transaction.ExecuteAsync("""
                    INSERT INTO catalog_menu_items(code, name, category, tax_class, recipe, image_url) VALUES($code, $name, $category, $tax, $recipe, $image)
                    ON CONFLICT(code) DO UPDATE SET name = excluded.name, category = excluded.category, tax_class = excluded.tax_class,
                        recipe = excluded.recipe, image_url = excluded.image_url
                    """, cancellationToken, ("$code", item.Code), ("$name", item.Name), ("$category", item.Category), ("$tax", item.TaxClass),
                    ("$recipe", JsonSerializer.Serialize(item.Recipe, CatalogJsonContext.Default.IReadOnlyListRecipeLine)), ("$image", item.ImageUrl));
                break;
            case (CatalogEvents.ProductUpserted or CatalogEvents.ProductRetired or CatalogEvents.MenuItemUpserted, _):
                throw new NotSupportedException($"The catalog reads ProductUpserted v1, ProductRetired v1 and MenuItemUpserted v1, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }

}
