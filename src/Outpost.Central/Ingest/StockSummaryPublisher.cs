using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Inventory;

namespace Outpost.Central.Ingest;

/// <summary>
/// Sends each region's stock down to its stores, so a store can say offline which nearby store has a product and
/// how old that figure is: every pass (one node, the holder of the <c>hq-stock-summary</c> lease) publishes a
/// <c>RegionalStock</c> event for every (region, product) whose stock changed at any of the region's stores since the
/// last pass, with all of that region's figures for the product, and the region's store locations when they change.
/// The events and the pass's position in HQ's stock changes are appended together, so a pass is never half done.
/// </summary>
public sealed partial class StockSummaryPublisher(IEventLog log, StoreDirectory stores, HqReadModels models, TimeProvider time, ILogger<StockSummaryPublisher> logger,
    TimeSpan interval) : BackgroundService
{
    private const string Cursor = "hq-stock-summary";
    private readonly string _holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    private readonly Dictionary<string, string> _locationsSent = new(StringComparer.Ordinal);

    /// <summary>One pass; returns how many events it published.</summary>
    public async Task<int> PublishAsync(CancellationToken cancellationToken)
    {
        await models.EnsureCreatedAsync(cancellationToken);
        var watermark = await log.GetCursorAsync(Cursor, cancellationToken) ?? 0;
        var registry = (await stores.ListAsync(cancellationToken)).ToDictionary(s => s.StoreId, StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var events = new List<NewEvent>();
        foreach (var region in registry.Values.GroupBy(s => s.Region, StringComparer.Ordinal))
        {
            StoreLocationV1[] located = [.. region.Where(s => s.Location is not null).OrderBy(s => s.StoreId, StringComparer.Ordinal)
                .Select(s => new StoreLocationV1(s.StoreId, s.Location!.Latitude, s.Location.Longitude))];
            var fingerprint = string.Join(';', located.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.StoreId}:{l.Latitude}:{l.Longitude}")));
            if (_locationsSent.GetValueOrDefault(region.Key) != fingerprint)
            {
                events.Add(Event(region.Key, NearbyStockEvents.RegionStores, "stores", NewEvent.Json(new RegionStoresV1(region.Key, located), NearbyStockJsonContext.Default.RegionStoresV1)));
            }
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        var high = watermark;
        await using (var connection = await log.OpenReadConnectionAsync(cancellationToken))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT gtin, changed_seq FROM hq_stock WHERE changed_seq > @after";
            command.With("@after", watermark);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                changed.Add(reader.GetString(0));
                high = Math.Max(high, Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
            }
        }

        foreach (var gtin in changed.Order(StringComparer.Ordinal))
        {
            var figures = await StockByStore.ForProductAsync(log, gtin, cancellationToken);
            foreach (var region in figures.Where(f => registry.ContainsKey(f.StoreId)).GroupBy(f => registry[f.StoreId].Region, StringComparer.Ordinal))
            {
                var summary = new RegionalStockV1(region.Key, gtin, [.. region.Select(f => new StoreStockV1(f.StoreId, f.Quantity, f.AsOf))], now);
                events.Add(Event(region.Key, NearbyStockEvents.RegionalStock, gtin, NewEvent.Json(summary, NearbyStockJsonContext.Default.RegionalStockV1)));
            }
        }

        if (events.Count == 0 && high == watermark)
        {
            return 0;
        }

        await log.AppendBatchAsync(events, new CursorUpdate(Cursor, CursorKind.Remote, high), cancellationToken);
        foreach (var region in registry.Values.GroupBy(s => s.Region, StringComparer.Ordinal))
        {
            _locationsSent[region.Key] = string.Join(';', region.Where(s => s.Location is not null).OrderBy(s => s.StoreId, StringComparer.Ordinal)
                .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.StoreId}:{s.Location!.Latitude}:{s.Location.Longitude}")));
        }

        return events.Count;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = new ConsumerLease(log, Cursor, _holder, time, TimeSpan.FromTicks(Math.Max(interval.Ticks * 4, TimeSpan.FromSeconds(10).Ticks)));
        long? epoch = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await models.EnsureCreatedAsync(stoppingToken); // in the loop: a node that starts while its database restarts keeps trying
                epoch = epoch is { } held && await lease.RenewAsync(held, stoppingToken) ? held : await lease.TryAcquireAsync(stoppingToken);
                if (epoch is null)
                {
                    _locationsSent.Clear();
                    continue;
                }

                await PublishAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.PassFailed(logger, ex);
            }
        }
    }

    private static NewEvent Event(string region, string type, string key, ReadOnlyMemory<byte> payload) => new()
    {
        Topic = NearbyStockEvents.Topic,
        Type = type,
        Key = region + "|" + key,
        Scope = Scope.Region(region),
        Payload = payload,
    };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A regional stock summary pass failed; it runs again at the next interval.")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
