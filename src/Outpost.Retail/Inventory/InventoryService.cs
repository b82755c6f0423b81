using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Inventory;

/// <summary>What is out of stock now.</summary>
/// <param name="Products">GTINs out of stock (marked or sold out).</param>
/// <param name="Ingredients">Ingredients out of stock.</param>
public sealed record Unavailable(IReadOnlySet<string> Products, IReadOnlySet<string> Ingredients);

/// <summary>Stock counts and availability marks from staff, and what is out of stock.</summary>
/// <remarks>With an <paramref name="unavailable"/> cache (the one <see cref="InventoryProjection"/> invalidates), what is out of stock is answered from memory.</remarks>
public sealed class InventoryService(IEventLog log, StoreContext store, Func<string, long, CancellationToken, Task> projected, ReadCache<byte, Unavailable>? unavailable = null)
{
    /// <summary>Records a stock count.</summary>
    /// <exception cref="ArgumentException">Bad GTIN, negative quantity or no staff id.</exception>
    public async Task<long> CountAsync(string gtin, decimal quantity, string by, CancellationToken cancellationToken)
    {
        if (!Gtin.TryParse(gtin, out var parsed, out var problem))
        {
            throw new ArgumentException(problem, nameof(gtin));
        }

        if (quantity < 0 || quantity > 1_000_000)
        {
            throw new ArgumentException($"{quantity} is not a stock count (0 to 1,000,000).", nameof(quantity));
        }

        return await AppendAsync(InventoryEvents.StockCounted, parsed.Value, NewEvent.Json(new StockCountedV1(parsed.Value, quantity, Staff(by)), InventoryJsonContext.Default.StockCountedV1), cancellationToken);
    }

    /// <summary>Marks a product (by GTIN) or an ingredient (by name) out of stock or back in; live views update.</summary>
    /// <exception cref="ArgumentException">Unknown kind, bad GTIN, empty ingredient or no staff id.</exception>
    public async Task<long> MarkAsync(string kind, string id, bool available, string by, CancellationToken cancellationToken)
    {
        string key;
        switch (kind)
        {
            case InventoryEvents.Product:
                key = Gtin.TryParse(id, out var gtin, out var problem) ? gtin.Value : throw new ArgumentException(problem, nameof(id));
                break;
            case InventoryEvents.Ingredient:
                key = string.IsNullOrWhiteSpace(id) || id.Length > 64 ? throw new ArgumentException("An ingredient is named in 1 to 64 characters.", nameof(id)) : id.Trim().ToLowerInvariant();
                break;
            default:
                throw new ArgumentException($"'{kind}' is neither 'product' nor 'ingredient'.", nameof(kind));
        }

        return await AppendAsync(InventoryEvents.AvailabilityMarked, kind + ":" + key,
            NewEvent.Json(new AvailabilityMarkedV1(kind, key, available, Staff(by)), InventoryJsonContext.Default.AvailabilityMarkedV1), cancellationToken);
    }

    /// <summary>Everything out of stock now.</summary>
    public async Task<IReadOnlyList<NearbyStock>> NearbyAsync(string gtin, CancellationToken cancellationToken) =>
        Catalog.Gtin.TryParse(gtin, out var parsed, out var problem)
            ? await NearbyStockProjection.NearbyAsync(log, store, parsed.Value, cancellationToken)
            : throw new RetailException(RetailProblem.Invalid, problem, null, "gtin");

    /// <summary>What is out of stock now: products and ingredients.</summary>
    public async Task<Unavailable> UnavailableAsync(CancellationToken cancellationToken) =>
        unavailable is null ? await ReadUnavailableAsync(0, cancellationToken) : await unavailable.GetOrReadAsync(0, ReadUnavailableAsync, cancellationToken);

    private async Task<Unavailable> ReadUnavailableAsync(byte key, CancellationToken cancellationToken)
    {
        var products = new HashSet<string>(StringComparer.Ordinal);
        var ingredients = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, id FROM inventory_unavailable";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            (reader.GetString(0) == InventoryEvents.Product ? products : ingredients).Add(reader.GetString(1));
        }

        return new Unavailable(products, ingredients);
    }

    /// <summary>A product's counted stock, or null when it is not tracked.</summary>
    public async Task<decimal?> LevelAsync(string gtin, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT quantity FROM inventory_levels WHERE gtin = $gtin";
        command.With("$gtin", Gtin.Parse(gtin).Value);
        return await command.ExecuteScalarAsync(cancellationToken) is string text ? decimal.Parse(text, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Whether the event at a sequence changed availability (the projection must have passed it).</summary>
    public async Task<bool> ChangedAtAsync(long seq, CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM inventory_changes WHERE seq = $seq";
        command.With("$seq", seq);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static string Staff(string by) =>
        string.IsNullOrWhiteSpace(by) || by.Length > 100 ? throw new ArgumentException("Who did it is recorded: give a staff or device id.", nameof(by)) : by;

    private async Task<long> AppendAsync(string type, string key, byte[] payload, CancellationToken cancellationToken)
    {
        var result = await log.AppendAsync(new NewEvent { Topic = InventoryEvents.StockTopic, Type = type, Key = key, Scope = Scope.Store(store.StoreId), Payload = payload }, cancellationToken);
        await projected(InventoryProjection.ConsumerName, result.Seq, cancellationToken);
        return result.Seq;
    }
}
