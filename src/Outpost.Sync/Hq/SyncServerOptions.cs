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
}
