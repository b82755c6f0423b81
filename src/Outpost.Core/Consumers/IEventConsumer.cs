using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Core.Consumers;

/// <summary>
/// A named, durable consumer of the log. Its handler writes its read model through the transaction it is
/// given; the runner commits the consumer's checkpoint in that same transaction, so each event affects
/// the read model exactly once. A handler with effects outside the database gets at-least-once delivery.
/// </summary>
public interface IEventConsumer
{
    /// <summary>The consumer's name; its checkpoint is the cursor <c>consumer:&lt;name&gt;</c>.</summary>
    string Name { get; }

    /// <summary>The events it wants.</summary>
    ReadFilter Filter { get; }

    /// <summary>Handles one event. Throwing rolls back everything the handler wrote for it.</summary>
    ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken);
}
