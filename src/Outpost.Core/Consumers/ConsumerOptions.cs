using System.ComponentModel.DataAnnotations;

namespace Outpost.Core.Consumers;

/// <summary>How a consumer runner reads, retries and parks.</summary>
public sealed class ConsumerOptions
{
    /// <summary>Events handled per transaction when all goes well.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Attempts at one event before it is parked in dead letters.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay before the second attempt; doubles for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Delay before reading again after the log itself failed (for example a corrupt record).</summary>
    public TimeSpan FaultDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Called first in every transaction that moves the checkpoint. Where several nodes could run the same consumer
    /// (HQ on one PostgreSQL), it proves this node still holds the consumer's lease and keeps a new holder from
    /// taking over until the transaction ends, or throws <see cref="LeaseLostException"/>: the transaction is
    /// rolled back and the runner stops. Null (a store, one process): no check.
    /// </summary>
    public Func<Log.ILogTransaction, CancellationToken, ValueTask>? Fence { get; set; }
}
