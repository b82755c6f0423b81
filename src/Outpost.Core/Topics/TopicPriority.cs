namespace Outpost.Core.Topics;

/// <summary>The order in which a backlog drains: lower values first.</summary>
public enum TopicPriority
{
    /// <summary>Money and promises to customers: sales, orders, payments.</summary>
    Critical = 0,

    /// <summary>State others act on: stock movements, store campaigns.</summary>
    High = 1,

    /// <summary>Everything without a stated priority.</summary>
    Normal = 2,

    /// <summary>Telemetry and heartbeats, which may be evicted under a byte budget.</summary>
    Low = 3,
}
