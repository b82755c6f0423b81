using System.Text.Json.Serialization;

namespace Outpost.Sync.Protocol;

/// <summary>Paths and headers of sync protocol version 1.</summary>
public static class SyncWire
{
    /// <summary>POST a batch of the store's events.</summary>
    public const string UpPath = "/sync/v1/up";

    /// <summary>GET the events after a cursor (long poll).</summary>
    public const string DownPath = "/sync/v1/down";

    /// <summary>GET the events after a cursor as a stream of frames (<see cref="DownStreamFrame"/>), one request for many answers.</summary>
    public const string DownStreamPath = "/sync/v1/down/stream";

    /// <summary>Down response: the HQ log position the store's cursor moves to.</summary>
    public const string NextHeader = "X-Outpost-Next";

    /// <summary>Down response: HQ's log head, for the store's lag figure.</summary>
    public const string HeadHeader = "X-Outpost-Head";

    /// <summary>Every store request: the store's software version (for the fleet view).</summary>
    public const string VersionHeader = "X-Outpost-Version";

    /// <summary>
    /// Up requests (batches and heartbeats): events waiting at the store to go up once this batch is in. Down requests
    /// leave it out: HQ keeps the last figure.
    /// </summary>
    public const string BacklogHeader = "X-Outpost-Backlog";

    /// <summary>Every store request: HQ events the store has not received yet, as it last knew.</summary>
    public const string LagHeader = "X-Outpost-Lag";

    /// <summary>Every store request: the store's last sync error, if it has one now (at most 200 characters).</summary>
    public const string ErrorHeader = "X-Outpost-Error";
}

/// <summary>What a store reports about itself with each sync request.</summary>
/// <param name="Version">Its software version.</param>
/// <param name="Backlog">Events waiting to go up.</param>
/// <param name="Lag">HQ events not received yet.</param>
/// <param name="Error">Its last sync error, when it has one.</param>
public sealed record StoreReport(string? Version, long? Backlog, long? Lag, string? Error);

/// <summary>HQ's answer to an up batch, once every event of it is durable.</summary>
/// <param name="Accepted">Events newly stored.</param>
/// <param name="Duplicates">Events HQ already held (a retry).</param>
/// <param name="HighestOriginSeq">The highest origin seq of the batch.</param>
/// <param name="ContiguousOriginSeq">The highest origin seq of this store HQ held with no gap below it when it stored this batch (another HQ node may have stored more since).</param>
public sealed record UpAck(int Accepted, int Duplicates, long HighestOriginSeq, long ContiguousOriginSeq);

/// <summary>Source-generated JSON for the sync protocol.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(UpAck))]
[JsonSerializable(typeof(Agent.ConnectivityStatus))]
[JsonSerializable(typeof(Agent.RecordNotSent))]
public sealed partial class SyncJsonContext : JsonSerializerContext;
