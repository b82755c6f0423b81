namespace Outpost.Core.Topics;

/// <summary>How a log treats one topic: where it travels, how urgently, and how long it is kept.</summary>
/// <param name="Topic">The topic name.</param>
/// <param name="Direction">Local, up to HQ or down to stores.</param>
/// <param name="Priority">Drain order when a backlog builds.</param>
/// <param name="Retention">How long events stay.</param>
public sealed record TopicPolicy(string Topic, TopicDirection Direction, TopicPriority Priority, RetentionPolicy Retention)
{
    /// <summary>The policy of a topic that nobody declared: local, normal priority, kept for ever.</summary>
    public static TopicPolicy Default(string topic) => new(topic, TopicDirection.Local, TopicPriority.Normal, RetentionPolicy.KeepForever);
}
