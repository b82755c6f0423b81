using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Telemetry;

/// <summary>
/// The telemetry context's topic and event types: what the store says about its own devices and health, sent up at
/// low priority within the topic's byte budget (oldest evicted first while the link is down), read at HQ by the
/// fleet's read models.
/// </summary>
public static class TelemetryEvents
{
    /// <summary>The topic (up, low priority, a byte budget).</summary>
    public const string Topic = "telemetry";

    /// <summary>A device's page or app said it is alive (sent up at most once a minute per device, and when its version changes).</summary>
    public const string DeviceHeartbeat = "DeviceHeartbeat";

    /// <summary>The back office enrolled a device.</summary>
    public const string DeviceEnrolled = "DeviceEnrolled";

    /// <summary>The back office revoked a device's token: HQ stops expecting it.</summary>
    public const string DeviceRevoked = "DeviceRevoked";

    /// <summary>The store server's own health, every minute (key <see cref="HealthKey"/>).</summary>
    public const string StoreHealthReported = "StoreHealthReported";

    /// <summary>The key of every <see cref="StoreHealthReported"/>: one per store, the newest is what counts.</summary>
    public const string HealthKey = "store-health";

    /// <summary>The store server logged a warning or an error (rate-limited; key <see cref="LogKey"/>).</summary>
    public const string StoreLogged = "StoreLogged";

    /// <summary>The key of every <see cref="StoreLogged"/>.</summary>
    public const string LogKey = "store-log";

    /// <summary>The store's security audit: devices paired and revoked, failed pairings and sign-ins (up, kept by HQ).</summary>
    public const string SecurityTopic = "security";

    /// <summary>An entry of the security audit.</summary>
    public const string SecurityAudit = "SecurityAudit";
}

/// <summary>Version 1 of <c>DeviceHeartbeat</c>; the event's key is the device id, its scope the store.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="Role">Its role.</param>
/// <param name="AppVersion">What it runs.</param>
/// <param name="At">When, by the store's clock.</param>
public sealed record DeviceHeartbeatV1(string DeviceId, string Role, string? AppVersion, DateTimeOffset At);

/// <summary>Version 1 of <c>DeviceEnrolled</c>.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="Name">What staff call it ("Till 2").</param>
/// <param name="Role">Its role.</param>
/// <param name="At">When, by the store's clock.</param>
public sealed record DeviceEnrolledV1(string DeviceId, string Name, string Role, DateTimeOffset At);

/// <summary>Version 1 of <c>DeviceRevoked</c>.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="At">When, by the store's clock.</param>
public sealed record DeviceRevokedV1(string DeviceId, DateTimeOffset At);

/// <summary>Version 1 of <c>StoreHealthReported</c>: the store server over the last interval (a minute by default).</summary>
/// <param name="At">When, by the store's clock.</param>
/// <param name="IntervalSeconds">The interval the rates and percentiles cover.</param>
/// <param name="CpuPercent">The store server's process CPU over the interval, in percent of the whole machine.</param>
/// <param name="MemoryBytes">Its resident memory.</param>
/// <param name="DiskFreeBytes">Free space on the disk holding the store's data, for the store server.</param>
/// <param name="DiskSizeBytes">That disk's size.</param>
/// <param name="LogBytes">The log's file.</param>
/// <param name="WalBytes">Its write-ahead log.</param>
/// <param name="ParkedEvents">Events the store's read models parked (could not read).</param>
/// <param name="ConsumerLags">Per read model at the store, events in the log it has not applied yet.</param>
/// <param name="Requests">Requests the store server answered in the interval.</param>
/// <param name="P99Milliseconds">Per endpoint group (<c>baskets</c>, <c>products</c>, <c>orders</c>, …), the 99th percentile of request time in the interval.</param>
/// <param name="ErrorsPerMinute">Server errors (status 500 or more) per minute over the interval.</param>
/// <param name="PaymentHost"><c>reachable</c>, <c>unreachable</c> (cards approved offline) or <c>unknown</c> (no card yet), from the terminal's last contact.</param>
/// <param name="OfflineApprovalsPending">Card payments approved offline and not yet forwarded to the payment host.</param>
/// <param name="Devices">Devices enrolled and not revoked.</param>
/// <param name="DevicesOnline">Of those, heard from within two minutes.</param>
/// <param name="StorageProblem">Why the store cannot write its data now (a full disk), or null.</param>
public sealed record StoreHealthReportedV1(DateTimeOffset At, int IntervalSeconds, double CpuPercent, long MemoryBytes, long DiskFreeBytes, long DiskSizeBytes, long LogBytes,
    long WalBytes, long ParkedEvents, IReadOnlyDictionary<string, long> ConsumerLags, long Requests, IReadOnlyDictionary<string, double> P99Milliseconds, double ErrorsPerMinute,
    string PaymentHost, long OfflineApprovalsPending, int Devices, int DevicesOnline, string? StorageProblem);

/// <summary>Version 1 of <c>StoreLogged</c>: one log entry of the store server, at or above the level sent up.</summary>
/// <param name="At">When, by the store's clock.</param>
/// <param name="Level"><c>Warning</c>, <c>Error</c> or <c>Critical</c>.</param>
/// <param name="Category">The logger's category (the class that wrote it).</param>
/// <param name="EventId">The entry's event id.</param>
/// <param name="Message">The message (at most 2,000 characters).</param>
/// <param name="Exception">The exception, type, message and stack (at most 4,000 characters), or null.</param>
/// <param name="TraceId">The W3C trace the entry was written in, or null.</param>
/// <param name="Suppressed">Entries the rate limit kept back since the last one that went up.</param>
public sealed record StoreLoggedV1(DateTimeOffset At, string Level, string Category, int EventId, string Message, string? Exception, string? TraceId, long Suppressed);

/// <summary>Version 1 of an entry of the store's security audit (topic <c>security</c>, sent up to HQ).</summary>
/// <param name="Action">DevicePaired, PairingFailed, SignInFailed, DeviceRevoked, PairingCreated.</param>
/// <param name="Address">The client's address, when a request did it.</param>
/// <param name="DeviceId">The device concerned, if any.</param>
/// <param name="By">Who did it (a back-office device), if known.</param>
/// <param name="Detail">What happened, in words.</param>
/// <param name="At">When.</param>
public sealed record SecurityAuditV1(string Action, string? Address, string? DeviceId, string? By, string Detail, DateTimeOffset At);

/// <summary>Source-generated JSON for the telemetry events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DeviceHeartbeatV1))]
[JsonSerializable(typeof(DeviceEnrolledV1))]
[JsonSerializable(typeof(DeviceRevokedV1))]
[JsonSerializable(typeof(StoreHealthReportedV1))]
[JsonSerializable(typeof(StoreLoggedV1))]
[JsonSerializable(typeof(SecurityAuditV1))]
public sealed partial class TelemetryJsonContext : JsonSerializerContext;
