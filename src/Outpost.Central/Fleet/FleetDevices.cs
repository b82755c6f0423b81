using System.Data.Common;
using System.Globalization;
using System.Text;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Telemetry;

namespace Outpost.Central.Fleet;

/// <summary>A store's device as HQ last heard of it.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Region">The store's region.</param>
/// <param name="DeviceId">The device.</param>
/// <param name="Name">What staff call it, when HQ heard of its enrolment.</param>
/// <param name="Role">Its role (till, kiosk, kitchen, …).</param>
/// <param name="AppVersion">What its page or app runs, as its last heartbeat said.</param>
/// <param name="LastSeen">Its last heartbeat, by the store's clock; null if HQ never had one.</param>
/// <param name="Offline">Not heard from within <see cref="AlertOptions.DeviceOfflineAfter"/> (or never).</param>
public sealed record FleetDevice(string StoreId, string Region, string DeviceId, string? Name, string Role, string? AppVersion, DateTimeOffset? LastSeen, bool Offline);

/// <summary>A page of devices and the counts over everything the filter matched.</summary>
/// <param name="Total">Devices the filter matched.</param>
/// <param name="Offline">Of those, the offline ones.</param>
/// <param name="Offset">Where this page starts.</param>
/// <param name="Limit">The page's size.</param>
/// <param name="OfflineAfterSeconds">The silence after which a device is flagged.</param>
/// <param name="Devices">This page, by store then device.</param>
public sealed record DevicePage(long Total, long Offline, int Offset, int Limit, long OfflineAfterSeconds, IReadOnlyList<FleetDevice> Devices);

/// <summary>What the devices page asks for; every part optional.</summary>
/// <param name="Store">One store's devices.</param>
/// <param name="Region">One region's.</param>
/// <param name="Search">Part of a device id, device name or store id (any case).</param>
/// <param name="Role">One role.</param>
/// <param name="State"><c>offline</c> (not heard from lately, or never) or <c>online</c>.</param>
/// <param name="Offset">Devices to skip.</param>
/// <param name="Limit">Devices on the page (1 to <see cref="FleetDevices.MaxLimit"/>).</param>
public sealed record DeviceQuery(string? Store = null, string? Region = null, string? Search = null, string? Role = null, string? State = null, int Offset = 0, int Limit = 50);

/// <summary>A store's devices, counted.</summary>
/// <param name="Total">Devices HQ knows at the store.</param>
/// <param name="Offline">Of those, offline: not heard from lately.</param>
public sealed record DeviceCounts(long Total, long Offline);

/// <summary>
/// Every store's devices at HQ: the newest heartbeat of each (its role, app version and time), its name from its
/// enrolment, gone when the store revokes it. Kept from the stores' telemetry, which goes up within its byte budget:
/// while a store is offline its devices' figures at HQ age, and they catch up with the store's link. Queried a page
/// at a time (filtered, searched and counted in the database), so the fleet page stays quick with 40,000 devices.
/// </summary>
public sealed class FleetDevices : IEventConsumer
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_devices(
            store       TEXT   NOT NULL,
            device      TEXT   NOT NULL,
            name        TEXT,
            role        TEXT   NOT NULL,
            app_version TEXT,
            last_seen   BIGINT,
            changed_seq BIGINT NOT NULL,
            PRIMARY KEY(store, device));
        CREATE INDEX IF NOT EXISTS hq_devices_by_seen ON hq_devices(last_seen);
        CREATE INDEX IF NOT EXISTS hq_devices_by_device ON hq_devices(device)
        """;

    /// <summary>The most devices one page holds.</summary>
    public const int MaxLimit = 500;

    /// <summary>The states a query may ask for.</summary>
    public static IReadOnlyList<string> States { get; } = ["offline", "online"];

    /// <inheritdoc />
    public string Name => "hq-devices";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = new()
    {
        Topics = [TelemetryEvents.Topic],
        Types = [TelemetryEvents.DeviceHeartbeat, TelemetryEvents.DeviceEnrolled, TelemetryEvents.DeviceRevoked],
    };

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);

        // The store is the event's origin (HQ's ingest stamps it from the store's credential), never its payload.
        var store = e.Origin.Node.Value;
        switch (e.Type, e.Version)
        {
            case (TelemetryEvents.DeviceHeartbeat, 1):
                var beat = e.Deserialize(TelemetryJsonContext.Default.DeviceHeartbeatV1);
                // The newest heartbeat wins, whatever order they arrive in.
                await transaction.ExecuteAsync("""
                    INSERT INTO hq_devices(store, device, name, role, app_version, last_seen, changed_seq) VALUES(@store, @device, NULL, @role, @version, @seen, @seq)
                    ON CONFLICT(store, device) DO UPDATE SET role = excluded.role, app_version = excluded.app_version, last_seen = excluded.last_seen, changed_seq = excluded.changed_seq
                    WHERE hq_devices.last_seen IS NULL OR hq_devices.last_seen <= excluded.last_seen
                    """, cancellationToken, ("@store", store), ("@device", beat.DeviceId), ("@role", beat.Role), ("@version", beat.AppVersion),
                    ("@seen", beat.At.ToUnixTimeMilliseconds()), ("@seq", e.Seq));
                break;
            case (TelemetryEvents.DeviceEnrolled, 1):
                var enrolled = e.Deserialize(TelemetryJsonContext.Default.DeviceEnrolledV1);
                await transaction.ExecuteAsync("""
                    INSERT INTO hq_devices(store, device, name, role, app_version, last_seen, changed_seq) VALUES(@store, @device, @name, @role, NULL, NULL, @seq)
                    ON CONFLICT(store, device) DO UPDATE SET name = excluded.name, changed_seq = excluded.changed_seq
                    """, cancellationToken, ("@store", store), ("@device", enrolled.DeviceId), ("@name", enrolled.Name), ("@role", enrolled.Role), ("@seq", e.Seq));
                break;
            case (TelemetryEvents.DeviceRevoked, 1):
                var revoked = e.Deserialize(TelemetryJsonContext.Default.DeviceRevokedV1);
                await transaction.ExecuteAsync("DELETE FROM hq_devices WHERE store = @store AND device = @device", cancellationToken,
                    ("@store", store), ("@device", revoked.DeviceId));
                break;
            case (TelemetryEvents.DeviceHeartbeat or TelemetryEvents.DeviceEnrolled or TelemetryEvents.DeviceRevoked, _):
                throw new NotSupportedException($"HQ's device list reads {e.Type} v1, not v{e.Version}; upgrade HQ to read it.");
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with a query.</summary>
    public static DeviceQuery Checked(DeviceQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxLimit)
        {
            throw new ArgumentException($"'limit' is 1 to {MaxLimit} devices a page, not {query.Limit}.");
        }

        if (query.Offset is < 0 or > 10_000_000)
        {
            throw new ArgumentException($"'offset' is 0 or more (at most 10,000,000), not {query.Offset}.");
        }

        if (query.State is { } state && !States.Contains(state))
        {
            throw new ArgumentException($"'state' is {string.Join(" or ", States)}, not '{state}'.");
        }

        if (query.Search is { Length: > 100 })
        {
            throw new ArgumentException("'q' is at most 100 characters.");
        }

        return query;
    }

    /// <summary>A page of devices, with counts over all that match.</summary>
    public static async Task<DevicePage> PageAsync(IEventLog log, DeviceQuery query, DateTimeOffset now, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        Checked(query);
        var since = (now - offlineAfter).ToUnixTimeMilliseconds();
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        long total, offline;
        await using (var count = Where(connection.CreateCommand(), query, since, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN d.last_seen IS NULL OR d.last_seen < @since THEN 1 ELSE 0 END), 0)"))
        await using (var reader = await count.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            total = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
            offline = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        var devices = new List<FleetDevice>(Math.Min(query.Limit, (int)Math.Max(0, total - query.Offset)));
        await using (var page = Where(connection.CreateCommand(), query, since,
            "SELECT d.store, COALESCE(s.region, ''), d.device, d.name, d.role, d.app_version, d.last_seen",
            $" ORDER BY d.store, d.device LIMIT {query.Limit.ToString(CultureInfo.InvariantCulture)} OFFSET {query.Offset.ToString(CultureInfo.InvariantCulture)}"))
        await using (var reader = await page.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                long? seen = reader.IsDBNull(6) ? null : Convert.ToInt64(reader.GetValue(6), CultureInfo.InvariantCulture);
                devices.Add(new FleetDevice(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), seen is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null, seen is null || seen < since));
            }
        }

        return new DevicePage(total, offline, query.Offset, query.Limit, (long)offlineAfter.TotalSeconds, devices);
    }

    /// <summary>Each store's devices, counted (stores without devices are absent).</summary>
    public static async Task<Dictionary<string, DeviceCounts>> CountsAsync(IEventLog log, DateTimeOffset now, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var counts = new Dictionary<string, DeviceCounts>(StringComparer.Ordinal);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, COUNT(*), SUM(CASE WHEN last_seen IS NULL OR last_seen < @since THEN 1 ELSE 0 END) FROM hq_devices GROUP BY store";
        command.With("@since", (now - offlineAfter).ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = new DeviceCounts(Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
        }

        return counts;
    }

    /// <summary>A store's offline devices, by id (for an alert's summary), at most <paramref name="limit"/>.</summary>
    public static async Task<IReadOnlyList<string>> OfflineAsync(IEventLog log, string store, DateTimeOffset now, TimeSpan offlineAfter, int limit, CancellationToken cancellationToken)
    {
        var page = await PageAsync(log, new DeviceQuery(Store: store, State: "offline", Limit: limit), now, offlineAfter, cancellationToken);
        return [.. page.Devices.Select(d => d.Name is { } name ? $"{d.DeviceId} ({name})" : d.DeviceId)];
    }

    /// <summary>The query's filter as SQL (parameters bound on the command).</summary>
    private static DbCommand Where(DbCommand command, DeviceQuery query, long since, string select, string tail = "")
    {
        var sql = new StringBuilder(select).Append(" FROM hq_devices d LEFT JOIN stores s ON s.id = d.store WHERE 1 = 1");
        command.With("@since", since);
        if (query.Store is { Length: > 0 } store)
        {
            sql.Append(" AND d.store = @store");
            command.With("@store", store);
        }

        if (query.Region is { Length: > 0 } region)
        {
            sql.Append(" AND s.region = @region");
            command.With("@region", region);
        }

        if (query.Role is { Length: > 0 } role)
        {
            sql.Append(" AND d.role = @role");
            command.With("@role", role);
        }

        if (query.State == "offline")
        {
            sql.Append(" AND (d.last_seen IS NULL OR d.last_seen < @since)");
        }
        else if (query.State == "online")
        {
            sql.Append(" AND d.last_seen >= @since");
        }

        if (query.Search?.Trim() is { Length: > 0 } search)
        {
            // Any case, anywhere in the id, the name or the store; the user's % and _ are plain characters.
            sql.Append(@" AND (LOWER(d.device) LIKE @q ESCAPE '\' OR LOWER(COALESCE(d.name, '')) LIKE @q ESCAPE '\' OR LOWER(d.store) LIKE @q ESCAPE '\')");
            var escaped = search.ToLowerInvariant().Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
            command.With("@q", "%" + escaped + "%");
        }

        command.CommandText = sql.Append(tail).ToString();
        return command;
    }
}
