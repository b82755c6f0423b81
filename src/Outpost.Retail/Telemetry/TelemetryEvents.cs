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

/// <summary>Source-generated JSON for the telemetry events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DeviceHeartbeatV1))]
[JsonSerializable(typeof(DeviceEnrolledV1))]
[JsonSerializable(typeof(DeviceRevokedV1))]
public sealed partial class TelemetryJsonContext : JsonSerializerContext;
