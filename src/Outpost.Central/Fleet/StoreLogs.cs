using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Telemetry;

namespace Outpost.Central.Fleet;

/// <summary>A store's warning or error as HQ keeps it.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="At">When, by the store's clock.</param>
/// <param name="Level">Its level.</param>
/// <param name="Category">The class that wrote it.</param>
/// <param name="EventId">Its event id.</param>
/// <param name="Message">The message.</param>
/// <param name="Exception">The exception, or null.</param>
/// <param name="TraceId">The W3C trace it was written in, or null.</param>
/// <param name="Suppressed">Entries the store's rate limit kept back before this one.</param>
public sealed record StoreLogEntry(string StoreId, DateTimeOffset At, string Level, string Category, int EventId, string Message, string? Exception, string? TraceId, long Suppressed);

/// <summary>
/// The latest warnings and errors of each store at HQ (<c>StoreLogged</c>, sent up rate-limited): the newest
/// <see cref="KeptPerStore"/> a store, for its page and the fleet list. The log holds them all, as it holds every event.
/// </summary>
public sealed class StoreLogs : IEventConsumer
{
    /// <summary>Entries kept per store.</summary>
    public const int KeptPerStore = 100;

    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_store_logs(
            store      TEXT   NOT NULL,
            seq        BIGINT NOT NULL,
            at         BIGINT NOT NULL,
            level      TEXT   NOT NULL,
            category   TEXT   NOT NULL,
            event_id   BIGINT NOT NULL,
            message    TEXT   NOT NULL,
            exception  TEXT,
            trace_id   TEXT,
            suppressed BIGINT NOT NULL,
            PRIMARY KEY(store, seq))
        """;

    /// <inheritdoc />
    public string Name => "hq-store-logs";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = new() { Topics = [TelemetryEvents.Topic], Types = [TelemetryEvents.StoreLogged] };

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        if (e.Version != 1)
        {
            throw new NotSupportedException($"HQ's store logs read {e.Type} v1, not v{e.Version}; upgrade HQ to read it.");
        }

        var entry = e.Deserialize(TelemetryJsonContext.Default.StoreLoggedV1);
        var store = e.Origin.Node.Value;
        await transaction.ExecuteAsync("""
            INSERT INTO hq_store_logs(store, seq, at, level, category, event_id, message, exception, trace_id, suppressed)
            VALUES(@store, @seq, @at, @level, @category, @event, @message, @exception, @trace, @suppressed)
            """, cancellationToken, ("@store", store), ("@seq", e.Seq), ("@at", entry.At.ToUnixTimeMilliseconds()), ("@level", entry.Level), ("@category", entry.Category),
            ("@event", (long)entry.EventId), ("@message", entry.Message), ("@exception", entry.Exception), ("@trace", entry.TraceId), ("@suppressed", entry.Suppressed));

        // Only the newest are kept: what falls out is still in HQ's log.
        await transaction.ExecuteAsync($"""
            DELETE FROM hq_store_logs WHERE store = @store AND seq <= (
                SELECT seq FROM hq_store_logs WHERE store = @store ORDER BY seq DESC LIMIT 1 OFFSET {KeptPerStore.ToString(CultureInfo.InvariantCulture)})
            """, cancellationToken, ("@store", store));
    }

    /// <summary>A store's latest entries, newest first.</summary>
    public static async Task<IReadOnlyList<StoreLogEntry>> LatestAsync(IEventLog log, string store, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(log, "WHERE store = @store ORDER BY seq DESC LIMIT " + Math.Clamp(limit, 1, KeptPerStore).ToString(CultureInfo.InvariantCulture), store, cancellationToken);

    /// <summary>Each store's newest entry (stores without any are absent).</summary>
    public static async Task<Dictionary<string, StoreLogEntry>> NewestAsync(IEventLog log, CancellationToken cancellationToken) =>
        (await ReadAsync(log, "WHERE seq IN (SELECT MAX(seq) FROM hq_store_logs GROUP BY store)", null, cancellationToken)).ToDictionary(e => e.StoreId, StringComparer.Ordinal);

    private static async Task<List<StoreLogEntry>> ReadAsync(IEventLog log, string where, string? store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var entries = new List<StoreLogEntry>();
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, at, level, category, event_id, message, exception, trace_id, suppressed FROM hq_store_logs " + where;
        if (store is not null)
        {
            command.With("@store", store);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new StoreLogEntry(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)), reader.GetString(2),
                reader.GetString(3), Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7), Convert.ToInt64(reader.GetValue(8), CultureInfo.InvariantCulture)));
        }

        return entries;
    }
}
