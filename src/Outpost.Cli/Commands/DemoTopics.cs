using Outpost.Core.Topics;

namespace Outpost.Cli.Commands;

/// <summary>The topics the demo store uses, with the policies a real store would give them.</summary>
internal static class DemoTopics
{
    public static TopicCatalog Catalog { get; } = new([
        new TopicPolicy("sales", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(TimeSpan.FromDays(7))),
        new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(64 * 1024, TimeSpan.FromDays(1))),
        new TopicPolicy("prices", TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
    ]);
}
