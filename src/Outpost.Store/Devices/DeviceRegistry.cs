using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Telemetry;

namespace Outpost.Store.Devices;

/// <summary>An enrolled device.</summary>
/// <param name="Id">The device id.</param>
/// <param name="Name">What staff call it ("Till 2").</param>
/// <param name="Role">Its role.</param>
/// <param name="EnrolledAt">When.</param>
/// <param name="EnrolledBy">By whom.</param>
/// <param name="Revoked">Whether its token was revoked.</param>
public sealed record Device(string Id, string Name, string Role, DateTimeOffset EnrolledAt, string EnrolledBy, bool Revoked);

/// <summary>A device as the back office lists it, with what its heartbeats said.</summary>
/// <param name="Device">The device.</param>
/// <param name="AppVersion">The version its page or app reported.</param>
/// <param name="LastSeen">Its last heartbeat.</param>
public sealed record DeviceStatus(Device Device, string? AppVersion, DateTimeOffset? LastSeen);

/// <summary>A new device's token, shown once.</summary>
/// <param name="Device">The device.</param>
/// <param name="Token">Its bearer token; only a SHA-256 of it is kept.</param>
public sealed record EnrolledDevice(Device Device, string Token);

/// <summary>
/// The store's devices: enrolled from the back office with a role and a bearer token (kept as a SHA-256
/// hash), revoked at once, and their heartbeats (last seen, app version), sent up as telemetry at most once a
/// minute per device.
/// </summary>
public sealed class DeviceRegistry
{
    private readonly IEventLog _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Device> _byHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string? Version, DateTimeOffset Seen, long Sent)> _beats = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _revocations = new(StringComparer.Ordinal);

    private DeviceRegistry(IEventLog log, TimeProvider time)
    {
        _log = log;
        _time = time;
    }

    /// <summary>Opens the registry (creating its table) and loads every device.</summary>
    public static async Task<DeviceRegistry> OpenAsync(IEventLog log, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS store_devices(
                id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                enrolled_at TEXT NOT NULL, enrolled_by TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
            """, cancellationToken);
        var registry = new DeviceRegistry(log, time);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, role, token_hash, enrolled_at, enrolled_by, revoked FROM store_devices";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            registry._byHash[reader.GetString(3)] = new Device(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture), reader.GetString(5), reader.GetInt64(6) != 0);
        }

        return registry;
    }

    /// <summary>Enrols a device with a role; the token is returned once.</summary>
    /// <exception cref="ArgumentException">Unknown role or bad name.</exception>
    public async Task<EnrolledDevice> EnrolAsync(string name, string role, string by, CancellationToken cancellationToken)
    {
        CheckEnrolment(name, role);
        var now = _time.GetUtcNow();
        var device = new Device(role + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), name.Trim(), role, now, by, false);
        var token = Base64Url(RandomNumberGenerator.GetBytes(24));
        var hash = Hash(token);
        // The transaction ends before the event is appended: nothing may append while holding one.
        await using (var tx = await _log.BeginTransactionAsync(cancellationToken))
        {
            await tx.ExecuteAsync("INSERT INTO store_devices(id, name, role, token_hash, enrolled_at, enrolled_by) VALUES($id, $name, $role, $hash, $at, $by)", cancellationToken,
                ("$id", device.Id), ("$name", device.Name), ("$role", role), ("$hash", hash), ("$at", now.ToString("o", CultureInfo.InvariantCulture)), ("$by", by));
            await tx.CommitAsync(cancellationToken);
        }

        _byHash[hash] = device;
        // HQ learns the device's name and expects it from now on (a crash right here loses only that: its first
        // heartbeat still makes it known at HQ, without a name).
        await TellHqAsync(TelemetryEvents.DeviceEnrolled, device.Id, NewEvent.Json(new DeviceEnrolledV1(device.Id, device.Name, role, now), TelemetryJsonContext.Default.DeviceEnrolledV1),
            cancellationToken);
        return new EnrolledDevice(device, token);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless a device may be enrolled with this name and role.</summary>
    public static void CheckEnrolment(string name, string role)
    {
        if (!DeviceRoles.Enrollable.Contains(role))
        {
            throw new ArgumentException($"'{role}' is not a device role: {string.Join(", ", DeviceRoles.Enrollable)}.", nameof(role));
        }

        if (string.IsNullOrWhiteSpace(name) || name.Length > 64)
        {
            throw new ArgumentException("A device name is 1 to 64 characters.", nameof(name));
        }
    }

    /// <summary>A token cancelled when the device is revoked: what a live feed holds, so a revoked device's feed ends at once.</summary>
    public CancellationToken UntilRevoked(string deviceId) =>
        _revocations.GetOrAdd(deviceId, _ => new CancellationTokenSource()).Token;

    /// <summary>Revokes a device's token at once; false when there is no such device.</summary>
    public async Task<bool> RevokeAsync(string deviceId, CancellationToken cancellationToken)
    {
        var entry = _byHash.FirstOrDefault(d => d.Value.Id == deviceId);
        if (entry.Value is null)
        {
            return false;
        }

        await using (var tx = await _log.BeginTransactionAsync(cancellationToken))
        {
            await tx.ExecuteAsync("UPDATE store_devices SET revoked = 1 WHERE id = $id", cancellationToken, ("$id", deviceId));
            await tx.CommitAsync(cancellationToken);
        }

        _byHash[entry.Key] = entry.Value with { Revoked = true };
        await TellHqAsync(TelemetryEvents.DeviceRevoked, deviceId, NewEvent.Json(new DeviceRevokedV1(deviceId, _time.GetUtcNow()), TelemetryJsonContext.Default.DeviceRevokedV1),
            cancellationToken);
        if (_revocations.TryRemove(deviceId, out var live))
        {
            await live.CancelAsync();
            live.Dispose();
        }

        return true;
    }

    /// <summary>The live device a token belongs to, or null (unknown or revoked).</summary>
    public Device? Authenticate(string token) =>
        _byHash.TryGetValue(Hash(token), out var device) && !device.Revoked ? device : null;

    /// <summary>Every device with its last heartbeat.</summary>
    public IReadOnlyList<DeviceStatus> List() =>
        [.. _byHash.Values.OrderBy(d => d.Id, StringComparer.Ordinal)
            .Select(d => _beats.TryGetValue(d.Id, out var beat) ? new DeviceStatus(d, beat.Version, beat.Seen) : new DeviceStatus(d, null, null))];

    /// <summary>Records a heartbeat; sends it up as telemetry at most once a minute per device.</summary>
    public async Task HeartbeatAsync(string deviceId, string role, string? appVersion, CancellationToken cancellationToken)
    {
        // Once a minute per device, on the monotonic clock: a store whose wall clock jumped back still sends its devices' heartbeats.
        var now = _time.GetUtcNow();
        var ticking = _time.GetTimestamp();
        var send = !_beats.TryGetValue(deviceId, out var previous) || _time.GetElapsedTime(previous.Sent, ticking) >= TimeSpan.FromMinutes(1) || previous.Version != appVersion;
        _beats[deviceId] = (appVersion, now, send ? ticking : previous.Sent);
        if (send)
        {
            await TellHqAsync(TelemetryEvents.DeviceHeartbeat, deviceId, NewEvent.Json(new DeviceHeartbeatV1(deviceId, role, appVersion, now), TelemetryJsonContext.Default.DeviceHeartbeatV1),
                cancellationToken);
        }
    }

    /// <summary>Appends a telemetry event about a device, in the store's own scope (HQ finds a store's devices by it).</summary>
    private async Task TellHqAsync(string type, string deviceId, byte[] payload, CancellationToken cancellationToken) =>
        await _log.AppendAsync(new NewEvent { Topic = TelemetryEvents.Topic, Type = type, Key = deviceId, Scope = Scope.Store(_log.NodeId.Value), Payload = payload }, cancellationToken);

    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
