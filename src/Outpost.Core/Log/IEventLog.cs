using Outpost.Core.Events;
using Outpost.Core.Topics;

namespace Outpost.Core.Log;

/// <summary>
/// A node's durable, ordered, idempotent event log: the store's local broker and HQ's ingest log.
/// </summary>
/// <remarks>
/// Appends complete only once durable. Appending an event whose <c>(origin, origin seq)</c> the log
/// already holds writes nothing and returns the existing sequence. Every record carries a checksum that
/// is verified on read; a damaged record is never returned.
/// </remarks>
public interface IEventLog : IAsyncDisposable
{
    /// <summary>This node's id, the origin of events recorded here.</summary>
    NodeId NodeId { get; }

    /// <summary>The topic policies.</summary>
    TopicCatalog Topics { get; }

    /// <summary>The hybrid logical clock that stamps local events.</summary>
    HybridLogicalClock Clock { get; }

    /// <summary>The last committed sequence (0 for an empty log).</summary>
    long Head { get; }

    /// <summary>How many damaged records reads have met since the log was opened, each counted once however often it is met: a health signal.</summary>
    long CorruptRecordsSeen { get; }

    /// <summary>
    /// Why the log's last write was refused for its storage (its disk full), or null: set when a commit fails so,
    /// cleared by the next commit that succeeds. A health signal, shown on the store's health and at HQ.
    /// </summary>
    string? StorageProblem => null;

    /// <summary>Appends one event; completes once it is durable.</summary>
    /// <remarks>
    /// The token is heeded only until the event is queued for the writer (then nothing was written). Once queued it
    /// is committed whatever the caller does, so the call waits for that outcome and returns it: a caller holding a
    /// lock around a check-then-append never lets go while its event is still on its way to the disk.
    /// </remarks>
    /// <exception cref="InvalidEventException">The event is invalid; nothing was written.</exception>
    /// <exception cref="LogFullException">The log's disk is full; nothing was written.</exception>
    ValueTask<AppendResult> AppendAsync(NewEvent e, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends events atomically (all or none), optionally moving a cursor in the same transaction;
    /// completes once durable. Results are in the order of <paramref name="events"/>. The token is heeded as for
    /// <see cref="AppendAsync"/>: only until the batch is queued.
    /// </summary>
    /// <exception cref="InvalidEventException">An event is invalid; nothing was written.</exception>
    ValueTask<IReadOnlyList<AppendResult>> AppendBatchAsync(IReadOnlyList<NewEvent> events, CursorUpdate? cursor = null, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="maxCount"/> events after <paramref name="afterSeq"/> that pass the filter.</summary>
    /// <exception cref="LogCorruptionException">A record in the range is damaged; it is not returned.</exception>
    ValueTask<EventPage> ReadAsync(long afterSeq, ReadFilter filter, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>How many events after <paramref name="afterSeq"/> pass the filter (a backlog figure).</summary>
    ValueTask<long> CountAsync(long afterSeq, ReadFilter filter, CancellationToken cancellationToken = default)
        => CountAsync(afterSeq, long.MaxValue, filter, cancellationToken);

    /// <summary>
    /// How many events after <paramref name="afterSeq"/>, up to and including <paramref name="throughSeq"/>, pass the
    /// filter. Bounded, a count taken while events are appended is exact for the range it names.
    /// </summary>
    ValueTask<long> CountAsync(long afterSeq, long throughSeq, ReadFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Completes once <see cref="Head"/> is past <paramref name="afterSeq"/>: no polling, woken by the commit.</summary>
    ValueTask WaitForAppendAsync(long afterSeq, CancellationToken cancellationToken);

    /// <summary>Every event after <paramref name="afterSeq"/> that passes the filter, then each new one as it is committed.</summary>
    IAsyncEnumerable<StoredEvent> TailAsync(long afterSeq, ReadFilter filter, CancellationToken cancellationToken);

    /// <summary>The position of a named cursor, or null if it was never set.</summary>
    ValueTask<long?> GetCursorAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Sets a named cursor durably.</summary>
    ValueTask SetCursorAsync(string name, CursorKind kind, long value, CancellationToken cancellationToken = default);

    /// <summary>The highest origin sequence this log holds from <paramref name="origin"/> with no gap below it (0 if none).</summary>
    ValueTask<long> GetContiguousOriginSeqAsync(NodeId origin, CancellationToken cancellationToken = default);

    /// <summary>
    /// What this log knows, without a read, of <paramref name="origin"/>'s contiguous origin sequence: its value as of the
    /// latest commit this log made of that origin's events, or null when it made none since it opened. Never above
    /// <see cref="GetContiguousOriginSeqAsync"/>; below it only when another writer of the same database (another HQ
    /// node) has stored more of that origin's events since. Right after this log appended an origin's events it is
    /// the answer a read would give, without the round trip (one a request, thousands a second at HQ's lunch peak).
    /// </summary>
    long? KnownContiguousOriginSeq(NodeId origin) => null;

    /// <summary>Whether this log holds the event <c>(origin, originSeq)</c>.</summary>
    ValueTask<bool> HoldsOriginAsync(NodeId origin, long originSeq, CancellationToken cancellationToken = default);

    /// <summary>
    /// The highest sequence retention has removed from any of <paramref name="topics"/> (events done and past their
    /// grace, or over the topic's byte budget; 0 if none): a reader whose position is below it has missed events and
    /// must be told so. Compaction is not counted: it removes only values a newer event of the same key supersedes.
    /// </summary>
    async ValueTask<long> GetRemovedThroughAsync(IReadOnlyCollection<string> topics, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        await using var connection = await OpenReadConnectionAsync(cancellationToken);
        return await LogQueries.RemovedThroughAsync(connection, topics, cancellationToken);
    }

    /// <summary>Opens a connection for reading read models kept in the log's database (never for writing).</summary>
    ValueTask<System.Data.Common.DbConnection> OpenReadConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>Begins a write transaction for a consumer's read model and checkpoint.</summary>
    ValueTask<ILogTransaction> BeginTransactionAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A write transaction on the log's database with its own commit durability: <see cref="LogDurability.Normal"/>
    /// for working state that must survive a process crash but may lose its last commits to a power cut (a basket
    /// being scanned), without an fsync per change. Events and read models keep the log's durability.
    /// </summary>
    ValueTask<ILogTransaction> BeginTransactionAsync(LogDurability durability, CancellationToken cancellationToken = default);

    /// <summary>The parked events, optionally of one consumer.</summary>
    ValueTask<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string? consumer = null, CancellationToken cancellationToken = default);

    /// <summary>How many events are parked, and the <paramref name="max"/> most recently parked (a view that refreshes often reads no more).</summary>
    ValueTask<DeadLetterPage> GetLatestDeadLettersAsync(int max, CancellationToken cancellationToken = default);

    /// <summary>Applies the topics' retention policies once.</summary>
    ValueTask<RetentionReport> ApplyRetentionAsync(CancellationToken cancellationToken = default);

    /// <summary>Current figures.</summary>
    ValueTask<LogStats> GetStatsAsync(CancellationToken cancellationToken = default);
}
