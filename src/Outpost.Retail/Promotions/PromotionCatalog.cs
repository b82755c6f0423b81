using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Log;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Promotions;

/// <summary>
/// The store's promotions as an index, rebuilt only when the promotions context's tables change: pricing a
/// basket costs one small version read, not a reload of thousands of promotions.
/// </summary>
/// <remarks>
/// With a <paramref name="cache"/> (the one <see cref="PromotionsProjection"/> invalidates) the index is kept in memory
/// until the projection commits a change; without one, each call checks the projection's version row.
/// </remarks>
public sealed class PromotionCatalog(IEventLog log, StoreContext store, ReadCache<byte, PromotionIndex>? cache = null)
{
    private (long Version, PromotionIndex Index) _current = (-1, new PromotionIndex([]));

    /// <summary>The current promotions (valid or not yet valid: the engine checks windows at pricing time).</summary>
    public async ValueTask<PromotionIndex> GetAsync(CancellationToken cancellationToken)
    {
        if (cache is not null)
        {
            return await cache.GetOrReadAsync(0, async (_, ct) =>
            {
                await using var connection = await log.OpenReadConnectionAsync(ct);
                return await ReadIndexAsync(connection, ct);
            }, cancellationToken);
        }

        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        var version = await VersionAsync(connection, cancellationToken);
        var current = _current;
        if (current.Version == version)
        {
            return current.Index;
        }

        // Two callers seeing a change at once may both rebuild; either result is the same index.
        var index = await ReadIndexAsync(connection, cancellationToken);
        _current = (version, index);
        return index;
    }

    private async Task<PromotionIndex> ReadIndexAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        var promotions = new List<Promotion>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, definition FROM promotions_defs ORDER BY id";
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var definition = JsonSerializer.Deserialize(reader.GetString(1), PromotionJsonContext.Default.PromotionDefinitionV1)!;
                promotions.Add(PromotionDefinitions.ToPromotion(definition, "promotion " + reader.GetString(0), store.Currency));
            }
        }

        return new PromotionIndex(promotions);
    }

    private static async Task<long> VersionAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq FROM promotions_version WHERE k = 1";
        return await command.ExecuteScalarAsync(cancellationToken) is long seq ? seq : 0;
    }
}
