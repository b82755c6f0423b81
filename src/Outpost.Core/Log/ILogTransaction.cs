using System.Data.Common;

namespace Outpost.Core.Log;

/// <summary>
/// A write transaction on the log's database, for a consumer that keeps its read model in the same
/// database: its table writes, its checkpoint and any dead letter commit together or not at all, so each
/// event affects the read model exactly once. Writers of one log take turns: hold a transaction briefly, and never
/// append to the log while holding one (the append would wait for the transaction, which waits for it).
/// </summary>
public interface ILogTransaction : IAsyncDisposable
{
    /// <summary>The open connection.</summary>
    DbConnection Connection { get; }

    /// <summary>The transaction every command must join.</summary>
    DbTransaction Transaction { get; }

    /// <summary>A command already joined to the transaction.</summary>
    DbCommand CreateCommand(string sql);

    /// <summary>Moves a named cursor in this transaction.</summary>
    ValueTask SetCursorAsync(string name, CursorKind kind, long value, CancellationToken cancellationToken);

    /// <summary>Parks an event for a consumer in this transaction.</summary>
    ValueTask ParkAsync(DeadLetter letter, CancellationToken cancellationToken);

    /// <summary>Commits durably. Disposing without committing rolls back.</summary>
    ValueTask CommitAsync(CancellationToken cancellationToken);
}
