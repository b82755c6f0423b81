namespace Outpost.Core.Consumers;

/// <summary>
/// A consumer that keeps something outside the database in step with its read model, such as an in-memory cache of
/// it. The runner calls <see cref="Committed"/> after each commit of the consumer's work, before the consumer's new
/// position is visible: whoever waits for the read model to reach an event also sees the cache without what changed.
/// </summary>
public interface ICommitListener
{
    /// <summary>The consumer's last work is committed.</summary>
    void Committed();
}
