using System.ComponentModel.DataAnnotations;

namespace Outpost.Sync.Agent;

/// <summary>How a store's replication agent talks to HQ. The defaults are right for a store.</summary>
public sealed class SyncClientOptions
{
    /// <summary>HQ's base address, for example <c>https://hq.example.com/</c>.</summary>
    [Required]
    public Uri? Central { get; set; }

    /// <summary>This store's id (the origin of its events).</summary>
    [Required]
    public string StoreId { get; set; } = "";

    /// <summary>The secret HQ issued to this store.</summary>
    [Required]
    public string Secret { get; set; } = "";

    /// <summary>Most events in one up batch.</summary>
    [Range(1, 10_000)]
    public int MaxBatchEvents { get; set; } = 2000;

    /// <summary>Most payload bytes in one up batch (before compression).</summary>
    [Range(1024, 32 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a small batch waits for company while another is in flight.</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// When little is waiting (under a tenth of a batch), the agent starts at most one up request this often: the sales
    /// made within it of the last request go together in the next. At a lunch peak of 5 sales a second that is one
    /// request a second carrying five instead of five carrying one each, a fifth of the requests HQ must serve (at
    /// 20,000 stores, 20,000 requests a second instead of 100,000), for at most this much more before a sale is at HQ.
    /// A backlog goes at once, in full batches. Zero (the default) sends each sale as soon as it is made, which keeps a
    /// sale's way to HQ within milliseconds; a fleet whose HQ is sized for fewer requests sets it (docs/central.md).
    /// </summary>
    public TimeSpan Gather { get; set; } = TimeSpan.Zero;

    /// <summary>Up batches in flight at once.</summary>
    [Range(1, 64)]
    public int MaxInFlight { get; set; } = 4;

    /// <summary>Most events per down response.</summary>
    [Range(1, 10_000)]
    public int MaxDownEvents { get; set; } = 1000;

    /// <summary>How long HQ may hold a down request open.</summary>
    public TimeSpan LongPoll { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Follow HQ's down feed as a stream on one request (HQ writes each change to it, and an empty frame every
    /// <see cref="LongPoll"/> to show the link is alive) rather than a long poll per change. Falls back to long polls
    /// by itself when HQ predates streaming.
    /// </summary>
    public bool StreamDown { get; set; } = true;

    /// <summary>
    /// How long a connection to HQ may stay open with no request on it before it is closed. A store's agent never lets
    /// it idle (a heartbeat every <see cref="Heartbeat"/>, the down stream); a caller that runs the links in rounds
    /// (<see cref="ReplicationRounds"/>) sets it short, so thousands of stores between their rounds hold no sockets at HQ.
    /// </summary>
    public TimeSpan IdleConnectionTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an up request may take before it counts as failed.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay after a failure; doubles per failure, with full jitter.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest retry delay after a network failure.</summary>
    public TimeSpan BackoffCap { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The longest retry delay after HQ refused a batch (a 4xx: someone must look).</summary>
    public TimeSpan RefusedBackoffCap { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Content coding of up batches: zstd, br, gzip or identity.</summary>
    public string Compression { get; set; } = "zstd";

    /// <summary>
    /// A PEM file of the only roots HQ's certificate may chain to (a retailer's private PKI); null trusts the system's
    /// roots (the image's CA certificates).
    /// </summary>
    public string? CaBundle { get; set; }

    /// <summary>
    /// Public keys HQ's certificate chain must include one of: base64 SHA-256 of a SubjectPublicKeyInfo (as
    /// <c>outpost pki pin</c> prints it). Pin the key the next certificate keeps too (or a backup key), or a renewal
    /// with a new key cuts every store off. Empty pins nothing.
    /// </summary>
    public List<string> PinnedKeys { get; } = [];

    /// <summary>The store's client certificate (PEM, its CA's intermediates after it) for mutual TLS with HQ, or null; renewed files are used from the next connection on.</summary>
    public string? ClientCertificate { get; set; }

    /// <summary>The client certificate's private key (PEM).</summary>
    public string? ClientKey { get; set; }

    /// <summary>An idle up link sends an empty batch this often, so a dead link is noticed while nothing sells.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(5);
}
