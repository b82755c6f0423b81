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
}
