namespace Outpost.Core.Log;

/// <summary>What one retention pass removed, per topic.</summary>
/// <param name="Deleted">Events deleted because they were done and past their grace period.</param>
/// <param name="Compacted">Events removed because a newer one with the same key is done.</param>
/// <param name="Evicted">Events evicted, done or not, to fit a byte budget.</param>
public sealed record RetentionReport(
    IReadOnlyDictionary<string, long> Deleted,
    IReadOnlyDictionary<string, long> Compacted,
    IReadOnlyDictionary<string, long> Evicted)
{
    /// <summary>Total events removed.</summary>
    public long Total => Deleted.Values.Sum() + Compacted.Values.Sum() + Evicted.Values.Sum();
}
