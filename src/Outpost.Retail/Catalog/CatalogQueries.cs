using System.Data.Common;
using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Log;

namespace Outpost.Retail.Catalog;

/// <summary>Lookups on the catalog's read model: by GTIN (including a weighed item's barcode) and by text.</summary>
/// <remarks>With a <paramref name="products"/> cache (the one <see cref="CatalogProjection"/> invalidates), lookups by GTIN are answered from memory.</remarks>
public sealed class CatalogQueries(IEventLog log, IReadOnlyList<VariableMeasureLayout> layouts, ReadCache<string, Product?>? products = null)
{
    /// <summary>The store's in-store barcode layouts.</summary>
    public IReadOnlyList<VariableMeasureLayout> Layouts => layouts;

    /// <summary>The product a scanned barcode stands for, or null if the store does not sell it (or it is retired).</summary>
    /// <exception cref="FormatException">The barcode is not a valid GTIN.</exception>
    public async Task<Product?> FindAsync(string scanned, CancellationToken cancellationToken)
    {
        var gtin = VariableMeasureBarcode.TryRead(scanned, layouts)?.Product ?? Gtin.Parse(scanned);
        return products is null ? await ReadProductAsync(gtin.Value, cancellationToken) : await products.GetOrReadAsync(gtin.Value, ReadProductAsync, cancellationToken);
    }

    private async Task<Product?> ReadProductAsync(string gtin, CancellationToken cancellationToken)
    {
        var found = await QueryAsync("SELECT gtin, name, category, tax_class, unit, image_url, attributes FROM catalog_products WHERE gtin = $gtin AND retired = 0",
            command => command.With("$gtin", gtin), 1, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>Products whose name contains the text (case-insensitive for ASCII), by name, at most <paramref name="limit"/>.</summary>
    public Task<List<Product>> SearchAsync(string text, int limit, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var pattern = "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
        return QueryAsync("SELECT gtin, name, category, tax_class, unit, image_url, attributes FROM catalog_products WHERE retired = 0 AND name LIKE $pattern ESCAPE '\\' ORDER BY name LIMIT $limit",
            command => command.With("$pattern", pattern).With("$limit", limit), limit, cancellationToken);
    }

    /// <summary>Products on sale, by name, at most <paramref name="limit"/>.</summary>
    public Task<List<Product>> AllAsync(int limit, CancellationToken cancellationToken) =>
        QueryAsync("SELECT gtin, name, category, tax_class, unit, image_url, attributes FROM catalog_products WHERE retired = 0 ORDER BY name LIMIT $limit",
            command => command.With("$limit", limit), limit, cancellationToken);

    /// <summary>The menu items (food service) with their recipes, by category then name.</summary>
    public async Task<IReadOnlyList<MenuItemUpsertedV1>> MenuAsync(CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT code, name, category, tax_class, recipe, image_url FROM catalog_menu_items ORDER BY category, name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<MenuItemUpsertedV1>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new MenuItemUpsertedV1(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                JsonSerializer.Deserialize(reader.GetString(4), CatalogJsonContext.Default.IReadOnlyListRecipeLine) ?? [], reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return items;
    }

    private async Task<List<Product>> QueryAsync(string sql, Action<DbCommand> bind, int capacity, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var products = new List<Product>(Math.Min(capacity, 64));
        while (await reader.ReadAsync(cancellationToken))
        {
            var attributes = reader.IsDBNull(6) ? null : JsonSerializer.Deserialize(reader.GetString(6), CatalogJsonContext.Default.IReadOnlyDictionaryStringString);
            products.Add(new Product(Gtin.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), (SaleUnit)reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), attributes ?? new Dictionary<string, string>()));
        }

        return products;
    }
}
