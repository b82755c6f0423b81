using System.ComponentModel.DataAnnotations;
using Outpost.Core.Events;
using Outpost.Core.Topics;

namespace Outpost.Core.Log;

/// <summary>Settings of a node's event log. The defaults are right for a store server.</summary>
public sealed class LogOptions
{
    /// <summary>The SQLite database file.</summary>
    [Required]
    public string Path { get; set; } = "outpost.db";

    /// <summary>This node's id: the origin of every event recorded here.</summary>
    [Required]
    public string NodeId { get; set; } = "store";

    /// <summary>Durability of each commit.</summary>
    public LogDurability Durability { get; set; } = LogDurability.Full;

    /// <summary>The largest event accepted, envelope and payload, in bytes.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = EventValidator.DefaultMaxEventBytes;

    /// <summary>The most events the writer puts in one transaction.</summary>
    [Range(1, 100_000)]
    public int MaxEventsPerCommit { get; set; } = 4096;

    /// <summary>How long a write waits for another connection's lock before failing.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far ahead a remote clock may move this node's clock.</summary>
    public TimeSpan MaxClockDrift { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Topic policies (direction, priority, retention).</summary>
    public TopicCatalog Topics { get; set; } = TopicCatalog.Empty;

    /// <summary>The clock; tests inject a fake one.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
