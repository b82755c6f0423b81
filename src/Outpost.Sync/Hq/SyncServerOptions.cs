using System.ComponentModel.DataAnnotations;

namespace Outpost.Sync.Hq;

/// <summary>Limits and timing of HQ's sync endpoints.</summary>
public sealed class SyncServerOptions
{
    /// <summary>Largest request body on the wire (compressed).</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Largest batch once decompressed.</summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Most events in one up batch.</summary>
    [Range(1, 100_000)]
    public int MaxEventsPerBatch { get; set; } = 10_000;

    /// <summary>Largest payload of one event.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 256 * 1024;

    /// <summary>How long an up batch that overtook its predecessor waits for it before HQ answers 409.</summary>
    public TimeSpan PredecessorWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Most sync requests one store may have in progress at HQ at once (429 beyond); see <see cref="SyncRateLimits"/>.</summary>
    [Range(2, 1024)]
    public int MaxConcurrentPerStore { get; set; } = 16;

    /// <summary>Longest a down request is held open waiting for events.</summary>
    public TimeSpan MaxLongPoll { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest a streamed down feed stays on one request; then HQ ends it and the store connects again (and may land
    /// on another node: a load balancer gets to spread stores again after a node joins).
    /// </summary>
    public TimeSpan MaxStream { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Serve the streamed down feed. Off (404), stores long-poll instead: for a proxy in front of HQ that holds a
    /// response back until it ends.
    /// </summary>
    public bool ServeDownStream { get; set; } = true;
}
