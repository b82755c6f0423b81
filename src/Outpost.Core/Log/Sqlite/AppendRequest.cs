using Outpost.Core.Events;

namespace Outpost.Core.Log.Sqlite;

/// <summary>One caller's append, waiting in the writer's queue for its group commit.</summary>
internal sealed class AppendRequest(IReadOnlyList<NewEvent> events, ulong[] contentHashes, CursorUpdate? cursor)
{
    /// <summary>Each event's content hash (EventChecksum.Content), computed by the appending thread.</summary>
    public ulong[] ContentHashes { get; } = contentHashes;

    public IReadOnlyList<NewEvent> Events { get; } = events;

    public CursorUpdate? Cursor { get; } = cursor;

    public AppendResult[] Results { get; } = new AppendResult[events.Count];

    public TaskCompletionSource<AppendResult[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
