using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Core.Threading;
using Outpost.Sync.Hq;
using Outpost.Sync.Protocol;

namespace Outpost.Central.Fleet;

/// <summary>One store as the fleet view shows it.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Region">Its region.</param>
/// <param name="Connected">Whether it made a sync request lately (it holds a long poll while online).</param>
/// <param name="LastSeen">Its last sync request, on any HQ node.</param>
/// <param name="Version">Its software version.</param>
/// <param name="Backlog">Events waiting at the store to go up, as it reported.</param>
/// <param name="Lag">HQ events it had not received, as it reported.</param>
/// <param name="EventsToday">Events HQ stored from it today (UTC).</param>
/// <param name="Error">Its last sync error, while it has one.</param>
/// <param name="Revoked">Whether its credential is revoked.</param>
/// <param name="Alerts">Alerts firing for it now.</param>
public sealed record StoreHealth(string StoreId, string Region, bool Connected, DateTimeOffset? LastSeen, string? Version, long? Backlog, long? Lag, long EventsToday,
    string? Error, bool Revoked, IReadOnlyList<string> Alerts)
{
    /// <summary>The store's devices HQ knows, counted (on the fleet page's list; null elsewhere, or with none known).</summary>
    public DeviceCounts? Devices { get; init; }

    /// <summary>The key figures of its latest health report (on the fleet page's list; null elsewhere, or before its first).</summary>
    public StoreVitals? Health { get; init; }

    /// <summary>Its newest warning or error (on the fleet page's list; null elsewhere, or with none).</summary>
    public StoreLogEntry? LastLog { get; init; }
}

/// <summary>
/// What HQ knows of each store's link: every sync request (on whichever node) updates it in memory, and every two
/// seconds the node writes what changed to <c>hq_fleet</c> in its database, so all nodes share one view and a request
/// costs no write of its own. The fleet view and the alerts read that table.
/// </summary>
public sealed partial class FleetHealth(IEventLog log, StoreDirectory stores, TimeProvider time, ILogger<FleetHealth> logger, IOptions<AlertOptions>? alerts = null)
    : BackgroundService, ISyncObserver
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_fleet(
            store                TEXT   PRIMARY KEY,
            last_seen            BIGINT NOT NULL,
            version              TEXT,
            backlog              BIGINT,
            lag                  BIGINT,
            error                TEXT,
            day                  TEXT   NOT NULL,
            events_today         BIGINT NOT NULL,
            backlog_rising_since BIGINT);
        CREATE TABLE IF NOT EXISTS hq_alerts(
            store     TEXT   NOT NULL,
            alert     TEXT   NOT NULL,
            starts_at BIGINT NOT NULL,
            status    TEXT   NOT NULL,
            ends_at   BIGINT,
            notified  BIGINT NOT NULL,
            summary   TEXT   NOT NULL,
            PRIMARY KEY(store, alert, starts_at))
        """;

    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often a store's last-seen time alone is written (a report that changed, or events, always are): every 15 s,
    /// or a quarter of the offline alert's delay when that is shorter, so the alert never fires on a store still here.
    /// </summary>
    public TimeSpan SeenEvery { get; } = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(15).Ticks, (alerts?.Value.OfflineAfter ?? TimeSpan.FromMinutes(10)).Ticks / 4));

    /// <summary>Rows of <c>hq_fleet</c> written by one statement (9 parameters a row: within SQLite's and PostgreSQL's limits).</summary>
    private const int RowsPerStatement = 500;

    /// <summary>What this node last wrote of each store.</summary>
    private readonly ConcurrentDictionary<string, (long Seen, StoreReport? Report)> _written = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly OnceSucceeded _created = new(cancellationToken => log.CreateTablesAsync(Schema, cancellationToken));

    /// <summary>How recent a store's last sign of life must be for it to count as connected (its feed hears from HQ at least every 25 s; the time is written at least every 15 s).</summary>
    public static TimeSpan ConnectedWithin { get; } = TimeSpan.FromSeconds(60);

    /// <inheritdoc />
    public void UpStored(StoreIdentity store, int accepted, long contiguousOriginSeq)
    {
        ArgumentNullException.ThrowIfNull(store);
        var pending = Touch(store.StoreId);
        Interlocked.Add(ref pending.Accepted, accepted);
    }

    /// <inheritdoc />
    public void DownServed(StoreIdentity store, long cursor, long head)
    {
        ArgumentNullException.ThrowIfNull(store);
        Touch(store.StoreId);
    }

    /// <inheritdoc />
    public void Reported(StoreIdentity store, StoreReport report)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(report);
        // A request that leaves a figure out (a down request has no backlog) keeps the one reported before it.
        var pending = Touch(store.StoreId);
        pending.Report = pending.Report is { } before
            ? new StoreReport(report.Version ?? before.Version, report.Backlog ?? before.Backlog, report.Lag ?? before.Lag, report.Error)
            : report;
    }

    /// <inheritdoc />
    public void Refused(StoreIdentity store, string reason)
    {
        // Not a sign of life: the store's last-seen time stays; its error says why it cannot sync.
        ArgumentNullException.ThrowIfNull(store);
        _pending.GetOrAdd(store.StoreId, _ => new Pending()).Report = new StoreReport(null, null, null, "refused by HQ: " + reason);
    }

    /// <summary>Completes once the fleet tables exist.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _created.EnsureAsync(cancellationToken);

    /// <summary>Writes what changed since the last flush (also called by tests and at shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        var batch = new List<(string Store, Pending Pending)>();
        foreach (var store in _pending.Keys)
        {
            if (_pending.TryRemove(store, out var pending) && !Unchanged(store, pending))
            {
                batch.Add((store, pending));
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await WriteAsync(batch, cancellationToken);
        }
        catch
        {
            // Put them back (a newer report of the same store wins; the counts add up), for the next flush.
            foreach (var (store, pending) in batch)
            {
                _pending.AddOrUpdate(store, pending, (_, newer) =>
                {
                    Interlocked.Add(ref newer.Accepted, Interlocked.Read(ref pending.Accepted));
                    newer.Report ??= pending.Report;
                    return newer;
                });
            }

            throw;
        }
    }

    /// <summary>
    /// Whether a store's pending figures say nothing the table does not (as this node last wrote them): the same report,
    /// no new events, and a last-seen time within <see cref="SeenEvery"/> of the one written. After a price change
    /// every store's feed is served at once; rewriting 20,000 rows a flush for a last-seen time that "connected"
    /// reads to the minute cost HQ and its database more than serving them.
    /// </summary>
    private bool Unchanged(string store, Pending pending) =>
        Interlocked.Read(ref pending.Accepted) == 0 && _written.TryGetValue(store, out var written)
        && pending.LastSeen - written.Seen < (long)SeenEvery.TotalMilliseconds && Equals(pending.Report ?? written.Report, written.Report);

    private async Task WriteAsync(List<(string Store, Pending Pending)> batch, CancellationToken cancellationToken)
    {
        var day = time.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await using var tx = await log.BeginTransactionAsync(LogDurability.Normal, cancellationToken);

        // Many rows a statement: one round trip for hundreds of stores, not one each.
        foreach (var chunk in batch.Chunk(RowsPerStatement))
        {
            var values = new System.Text.StringBuilder();
            var parameters = new List<(string Name, object? Value)>(chunk.Length * 8 + 1) { ("@day", day) };
            for (var i = 0; i < chunk.Length; i++)
            {
                var (store, pending) = chunk[i];
                var report = pending.Report;
                var n = i.ToString(CultureInfo.InvariantCulture);
                values.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(@s{n}, @seen{n}, @v{n}, @b{n}, @l{n}, @e{n}, @day, @ev{n}, NULL)");
                parameters.AddRange([($"@s{n}", store), ($"@seen{n}", pending.LastSeen), ($"@v{n}", report?.Version), ($"@b{n}", report?.Backlog), ($"@l{n}", report?.Lag),
                    ($"@e{n}", report?.Error), ($"@ev{n}", Interlocked.Read(ref pending.Accepted))]);
            }

            await tx.ExecuteAsync($$"""
                INSERT INTO hq_fleet(store, last_seen, version, backlog, lag, error, day, events_today, backlog_rising_since)
                VALUES {{values}}
                ON CONFLICT(store) DO UPDATE SET
                    last_seen = CASE WHEN excluded.last_seen > hq_fleet.last_seen THEN excluded.last_seen ELSE hq_fleet.last_seen END,
                    version = COALESCE(excluded.version, hq_fleet.version),
                    backlog_rising_since = CASE
                        WHEN excluded.backlog IS NULL OR hq_fleet.backlog IS NULL THEN hq_fleet.backlog_rising_since
                        WHEN excluded.backlog > hq_fleet.backlog THEN COALESCE(hq_fleet.backlog_rising_since, excluded.last_seen)
                        WHEN excluded.backlog < hq_fleet.backlog THEN NULL
                        ELSE hq_fleet.backlog_rising_since END,
                    backlog = COALESCE(excluded.backlog, hq_fleet.backlog),
                    lag = COALESCE(excluded.lag, hq_fleet.lag),
                    error = excluded.error,
                    events_today = CASE WHEN hq_fleet.day = excluded.day THEN hq_fleet.events_today + excluded.events_today ELSE excluded.events_today END,
                    day = excluded.day
                """, cancellationToken, [.. parameters]);
        }

        await tx.CommitAsync(cancellationToken);
        foreach (var (store, pending) in batch)
        {
            _written.AddOrUpdate(store, (pending.LastSeen, pending.Report), (_, before) => (Math.Max(before.Seen, pending.LastSeen), pending.Report ?? before.Report));
        }
    }

    /// <summary>Every registered store with its health, in id order.</summary>
    public async Task<IReadOnlyList<StoreHealth>> ListAsync(CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        var rows = new Dictionary<string, (long Seen, string? Version, long? Backlog, long? Lag, string? Error, string Day, long Events)>(StringComparer.Ordinal);
        var alerts = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var connection = await log.OpenReadConnectionAsync(cancellationToken))
        {
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT store, last_seen, version, backlog, lag, error, day, events_today FROM hq_fleet";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows[reader.GetString(0)] = (Long(reader, 1)!.Value, reader.IsDBNull(2) ? null : reader.GetString(2), Long(reader, 3), Long(reader, 4),
                        reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), Long(reader, 7)!.Value);
                }
            }

            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT store, alert FROM hq_alerts WHERE status = 'firing' ORDER BY alert";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (!alerts.TryGetValue(reader.GetString(0), out var list))
                    {
                        alerts[reader.GetString(0)] = list = [];
                    }

                    list.Add(reader.GetString(1));
                }
            }
        }

        var now = time.GetUtcNow();
        var today = now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return [.. (await stores.ListAsync(cancellationToken)).Select(s =>
        {
            var firing = alerts.GetValueOrDefault(s.StoreId) ?? [];
            if (!rows.TryGetValue(s.StoreId, out var row))
            {
                return new StoreHealth(s.StoreId, s.Region, false, null, null, null, null, 0, null, s.Revoked, firing);
            }

            // A store only ever refused has no last-seen time (0).
            DateTimeOffset? seen = row.Seen == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.Seen);
            return new StoreHealth(s.StoreId, s.Region, !s.Revoked && now - seen <= ConnectedWithin, seen, row.Version, row.Backlog, row.Lag,
                row.Day == today ? row.Events : 0, row.Error, s.Revoked, firing);
        })];
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Periodic.RunAsync(FlushInterval, time, FlushAsync, ex => Log.FlushFailed(logger, ex), stoppingToken);
        try
        {
            await FlushAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.FlushFailed(logger, ex);
        }
    }

    private Pending Touch(string store)
    {
        var pending = _pending.GetOrAdd(store, _ => new Pending());
        pending.LastSeen = time.GetUtcNow().ToUnixTimeMilliseconds();
        return pending;
    }

    private static long? Long(System.Data.Common.DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);

    private sealed class Pending
    {
        public long Accepted;

        public long LastSeen { get; set; }

        public StoreReport? Report { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not write the fleet's link figures; they are kept for the next try.")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }
}
