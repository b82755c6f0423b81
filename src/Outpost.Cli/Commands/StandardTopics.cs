using Outpost.Core.Topics;

namespace Outpost.Cli.Commands;

/// <summary>
/// The topics a store and HQ use until the retail contexts declare their own: what goes up (by priority),
/// what comes down, and how long each is kept.
/// </summary>
internal static class StandardTopics
{
    public static TopicCatalog Catalog { get; } = new([
        new TopicPolicy("sales", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(TimeSpan.FromDays(7))),
        new TopicPolicy("orders", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(TimeSpan.FromDays(7))),
        new TopicPolicy("stock", TopicDirection.Up, TopicPriority.High, RetentionPolicy.UntilDone(TimeSpan.FromDays(7))),
        new TopicPolicy("campaigns", TopicDirection.Up, TopicPriority.High, RetentionPolicy.UntilDone(TimeSpan.FromDays(30))),
        new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(64 * 1024 * 1024, TimeSpan.FromDays(1))),
        new TopicPolicy("products", TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy("prices", TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy("promotions", TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy("config", TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),
    ]);
}
