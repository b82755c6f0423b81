using Outpost.Core.Contracts;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Sync.Hq;

namespace Outpost.Central;

/// <summary>Settings of an HQ node.</summary>
public sealed class CentralOptions
{
    /// <summary>Where HQ keeps its SQLite database (<c>hq.db</c>: the log, the store registry and the read models) when <see cref="Postgres"/> is not set.</summary>
    public string DataDirectory { get; set; } = Path.Combine("data", "hq");

    /// <summary>How it logs to its console: text or JSON, and the lowest level (<c>Log:Format</c>, <c>Log:Level</c>).</summary>
    public Outpost.Sync.Hosting.ConsoleLogSettings Log { get; set; } = new();

    /// <summary>
    /// A PostgreSQL connection string (for example <c>Host=db;Database=outpost;Username=outpost</c>): HQ keeps its log,
    /// registry and read models there, and several HQ nodes may share it. Null keeps HQ on SQLite.
    /// </summary>
    public string? Postgres { get; set; }

    /// <summary>HQ's node id: the origin of master data events.</summary>
    public string NodeId { get; set; } = "hq";

    /// <summary>Addresses to listen on, for example <c>http://127.0.0.1:5080</c>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The token admin requests present as <c>Authorization: Bearer &lt;token&gt;</c> (its holder is "admin" in the audit trail).</summary>
    public string? AdminToken { get; set; }

    /// <summary>More admin tokens, by the name the audit trail records for each. With neither, the admin API refuses everything.</summary>
    public Dictionary<string, string> AdminTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>The named admins (keys of <see cref="AdminTokens"/>, or "admin" for <see cref="AdminToken"/>) who may record releases and move rollouts.</summary>
    public HashSet<string> ReleaseAdmins { get; } = new(StringComparer.Ordinal);

    /// <summary>Registries (host:port) HQ and the stores speak to over plain HTTP instead of HTTPS: a lab's or a local one.</summary>
    public List<string> InsecureRegistries { get; } = [];

    /// <summary>How often the rollout conductor looks at running rollouts (opens waves, applies health gates).</summary>
    public TimeSpan RolloutInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Topic policies; down topics are what stores receive.</summary>
    public TopicCatalog Topics { get; set; } = TopicCatalog.Empty;

    /// <summary>
    /// The event types, versions and schemas <c>POST /admin/events</c> accepts, also served at <c>/contracts</c>:
    /// Outpost's retail, rollout and replication types unless set.
    /// </summary>
    public ContractCatalog Contracts { get; set; } = DefaultContracts;

    /// <summary>Outpost's contracts as HQ knows them (every one but a store's local ones).</summary>
    public static ContractCatalog DefaultContracts { get; } = new([.. Outpost.Retail.RetailContracts.All, .. Outpost.Sync.SyncContracts.All]);

    /// <summary>Commit durability of HQ's log.</summary>
    public LogDurability Durability { get; set; } = LogDurability.Full;

    /// <summary>HTTPS and mutual TLS with stores.</summary>
    public Security.HqTlsOptions Tls { get; set; } = new();

    /// <summary>Sync limits and long-poll timing.</summary>
    public SyncServerOptions Sync { get; set; } = new();

    /// <summary>Store alerts and where they go.</summary>
    public Fleet.AlertOptions Alerts { get; set; } = new();

    /// <summary>How often changed stock is summarised by region and sent down to the stores of the region.</summary>
    public TimeSpan StockSummaryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often topic retention runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a stop (SIGTERM) may take to finish the requests in flight and stop the background services before the
    /// host gives up on them; the log still closes after it. Below Kubernetes' default 30 s grace period, so the
    /// process exits on its own before it would be killed.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
