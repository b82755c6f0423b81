namespace Outpost.Core.Log;

/// <summary>
/// Why a node's data cannot be written now (its disk full), over every file it writes, not only its log; null while
/// all of them write. A node that registers one has its <c>/health/ready</c> say so; without one, the log's
/// <see cref="IEventLog.StorageProblem"/> is what counts.
/// </summary>
public interface IStorageHealth
{
    /// <summary>The problem in words, or null.</summary>
    string? Problem { get; }
}
