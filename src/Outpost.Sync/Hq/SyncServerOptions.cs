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

    /// <summary>
    /// Sync requests one node works on at once (<see cref="SyncAdmission"/>): below HQ's database connection pool
    /// (150 on PostgreSQL), so that the fleet reconnecting at once cannot drain it and the admin API and read models
    /// keep connections.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConcurrentWork { get; set; } = 128;

    /// <summary>Sync requests that may wait for one of those at once (a task each, no connection); beyond, 503 at once.</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedWork { get; set; } = 20_000;

    /// <summary>Longest a sync request waits for its turn before it is answered 503 (below the pool's own 15 s wait).</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What a busy answer's <c>Retry-After</c> asks for (the agent waits between this and twice this).</summary>
    public TimeSpan BusyRetryAfter { get; set; } = TimeSpan.FromSeconds(2);

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
