using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Sync.Agent;

namespace Outpost.Store;

/// <summary>Settings of a store server.</summary>
public sealed class StoreOptions
{
    /// <summary>The store's id: its node id and the origin of its events.</summary>
    public string StoreId { get; set; } = "store-001";

    /// <summary>Where the store keeps its log (<c>store.db</c>).</summary>
    public string DataDirectory { get; set; } = Path.Combine("data", "store");

    /// <summary>Addresses to listen on for devices.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5090";

    /// <summary>Topic policies: up topics go to HQ, by priority.</summary>
    public TopicCatalog Topics { get; set; } = TopicCatalog.Empty;

    /// <summary>Commit durability of the store's log.</summary>
    public LogDurability Durability { get; set; } = LogDurability.Full;

    /// <summary>How to reach HQ; with no <see cref="SyncClientOptions.Central"/> the store runs alone.</summary>
    public SyncClientOptions Sync { get; set; } = new();

    /// <summary>How often topic retention runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
