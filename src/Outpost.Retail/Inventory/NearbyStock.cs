using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Inventory;

/// <summary>HQ's regional stock summary, sent down to each store of the region so it can say offline which nearby store has a product.</summary>
public static class NearbyStockEvents
{
    /// <summary>Down, compacted: one event per region and product (key <c>region|gtin</c>), and one per region with its stores' locations (key <c>region|stores</c>).</summary>
    public const string Topic = "stock-summary";

    /// <summary>The stock of one product at every store of a region that counted it.</summary>
    public const string RegionalStock = "RegionalStock";

    /// <summary>Where the stores of a region are.</summary>
    public const string RegionStores = "RegionStores";
}

/// <summary>Version 1 of <c>RegionalStock</c>.</summary>
/// <param name="Region">The region.</param>
/// <param name="Gtin">The product.</param>
/// <param name="Stores">Its stock at each store of the region that counted it.</param>
/// <param name="PublishedAt">When HQ published this summary.</param>
public sealed record RegionalStockV1(string Region, string Gtin, IReadOnlyList<StoreStockV1> Stores, DateTimeOffset PublishedAt);

/// <summary>One store's stock of a product, as HQ last heard.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Quantity">On hand.</param>
/// <param name="AsOf">When the store last changed it.</param>
public sealed record StoreStockV1(string StoreId, decimal Quantity, DateTimeOffset AsOf);

/// <summary>Version 1 of <c>RegionStores</c>.</summary>
/// <param name="Region">The region.</param>
/// <param name="Stores">Its stores with a known location.</param>
public sealed record RegionStoresV1(string Region, IReadOnlyList<StoreLocationV1> Stores);

/// <summary>Where a store is.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Latitude">Degrees.</param>
/// <param name="Longitude">Degrees.</param>
public sealed record StoreLocationV1(string StoreId, double Latitude, double Longitude);

/// <summary>A product's stock at another store of the region, answered by this store, online or not.</summary>
/// <param name="StoreId">The other store.</param>
/// <param name="Quantity">On hand there, as HQ last heard.</param>
/// <param name="AsOf">When that figure last changed at that store.</param>
/// <param name="PublishedAt">When HQ sent it here: how old this store's copy is.</param>
/// <param name="DistanceKm">Distance from this store, when both locations are known.</param>
public sealed record NearbyStock(string StoreId, decimal Quantity, DateTimeOffset AsOf, DateTimeOffset PublishedAt, double? DistanceKm);

/// <summary>Source-generated JSON for the stock summary.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RegionalStockV1))]
[JsonSerializable(typeof(RegionStoresV1))]
public sealed partial class NearbyStockJsonContext : JsonSerializerContext;

/// <summary>The store's copy of its region's stock summary, and the "which nearby store has it" query over it.</summary>
public sealed class NearbyStockProjection(StoreContext store) : IEventConsumer
{
    /// <inheritdoc />
    public string Name => "nearby-stock";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(NearbyStockEvents.Topic);

    /// <summary>Creates the tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
        CREATE TABLE IF NOT EXISTS inventory_nearby(
            gtin TEXT NOT NULL, store_id TEXT NOT NULL, quantity TEXT NOT NULL, as_of INTEGER NOT NULL, published_at INTEGER NOT NULL,
            PRIMARY KEY(gtin, store_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS inventory_region_stores(
            store_id TEXT PRIMARY KEY, latitude REAL NOT NULL, longitude REAL NOT NULL) WITHOUT ROWID;
        """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        switch (e.Type, e.Version)
        {
            case (NearbyStockEvents.RegionalStock, 1):
                var stock = e.Deserialize(NearbyStockJsonContext.Default.RegionalStockV1);
                if (stock.Region != store.Region)
                {
                    return;
                }

                await transaction.ExecuteAsync("DELETE FROM inventory_nearby WHERE gtin = $gtin", cancellationToken, ("$gtin", stock.Gtin));
                foreach (var s in stock.Stores)
                {
                    await transaction.ExecuteAsync("INSERT INTO inventory_nearby(gtin, store_id, quantity, as_of, published_at) VALUES($gtin, $store, $quantity, $asOf, $published)",
                        cancellationToken, ("$gtin", stock.Gtin), ("$store", s.StoreId), ("$quantity", s.Quantity.ToString(CultureInfo.InvariantCulture)),
                        ("$asOf", s.AsOf.ToUnixTimeMilliseconds()), ("$published", stock.PublishedAt.ToUnixTimeMilliseconds()));
                }

                break;
            case (NearbyStockEvents.RegionStores, 1):
                var stores = e.Deserialize(NearbyStockJsonContext.Default.RegionStoresV1);
                if (stores.Region != store.Region)
                {
                    return;
                }

                await transaction.ExecuteAsync("DELETE FROM inventory_region_stores", cancellationToken);
                foreach (var s in stores.Stores)
                {
                    await transaction.ExecuteAsync("INSERT INTO inventory_region_stores(store_id, latitude, longitude) VALUES($store, $lat, $lon)", cancellationToken,
                        ("$store", s.StoreId), ("$lat", s.Latitude), ("$lon", s.Longitude));
                }

                break;
            case (NearbyStockEvents.RegionalStock or NearbyStockEvents.RegionStores, _):
                throw new NotSupportedException($"The stock summary reads {e.Type} v1, not v{e.Version}; upgrade this store to read it.");
        }
    }

    /// <summary>Other stores of the region with the product in stock, nearest first (then the most stock first).</summary>
    public static async Task<IReadOnlyList<NearbyStock>> NearbyAsync(IEventLog log, StoreContext store, string gtin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(store);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        var locations = new Dictionary<string, (double Lat, double Lon)>(StringComparer.Ordinal);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT store_id, latitude, longitude FROM inventory_region_stores";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                locations[reader.GetString(0)] = (reader.GetDouble(1), reader.GetDouble(2));
            }
        }

        var here = locations.TryGetValue(store.StoreId, out var self) ? self : ((double, double)?)null;
        var found = new List<NearbyStock>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT store_id, quantity, as_of, published_at FROM inventory_nearby WHERE gtin = $gtin AND store_id <> $self";
            command.With("$gtin", gtin).With("$self", store.StoreId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var quantity = decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
                if (quantity <= 0)
                {
                    continue;
                }

                var id = reader.GetString(0);
                double? distance = here is { } a && locations.TryGetValue(id, out var b) ? Math.Round(Kilometres(a.Item1, a.Item2, b.Lat, b.Lon), 1) : null;
                found.Add(new NearbyStock(id, quantity, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), distance));
            }
        }

        return [.. found.OrderBy(s => s.DistanceKm ?? double.MaxValue).ThenByDescending(s => s.Quantity).ThenBy(s => s.StoreId, StringComparer.Ordinal)];
    }

    /// <summary>Great-circle distance (haversine, mean Earth radius).</summary>
    public static double Kilometres(double lat1, double lon1, double lat2, double lon2)
    {
        static double Radians(double degrees) => degrees * Math.PI / 180;
        var a = Math.Pow(Math.Sin(Radians(lat2 - lat1) / 2), 2) + Math.Cos(Radians(lat1)) * Math.Cos(Radians(lat2)) * Math.Pow(Math.Sin(Radians(lon2 - lon1) / 2), 2);
        return 2 * 6371.0088 * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }
}
