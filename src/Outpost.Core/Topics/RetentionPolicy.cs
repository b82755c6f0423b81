namespace Outpost.Core.Topics;

/// <summary>
/// How long a topic's events stay in a log. An event is <em>done</em> once every durable consumer has
/// passed it and, for a topic that goes up, once the up link's checkpoint has passed it.
/// </summary>
public sealed record RetentionPolicy
{
    /// <summary>Keep every event for ever (the default).</summary>
    public static RetentionPolicy KeepForever { get; } = new();

    /// <summary>Delete events that are done and older than this grace period; null keeps them.</summary>
    public TimeSpan? DeleteWhenDoneAfter { get; init; }

    /// <summary>
    /// A payload byte budget: when a topic holds more, its oldest events are evicted (done or not) until
    /// it fits, and every eviction is counted. For low-value topics such as telemetry.
    /// </summary>
    public long? MaxBytes { get; init; }

    /// <summary>Keep only the newest event per key among those that are done (state topics such as prices).</summary>
    public bool CompactByKey { get; init; }

    /// <summary>Keep until done, plus a grace period.</summary>
    public static RetentionPolicy UntilDone(TimeSpan grace) => new() { DeleteWhenDoneAfter = grace };

    /// <summary>Keep until done plus a grace period, and never more than a byte budget.</summary>
    public static RetentionPolicy Budget(long maxBytes, TimeSpan grace) => new() { MaxBytes = maxBytes, DeleteWhenDoneAfter = grace };

    /// <summary>Compact by key.</summary>
    public static RetentionPolicy Compacted { get; } = new() { CompactByKey = true };
}
