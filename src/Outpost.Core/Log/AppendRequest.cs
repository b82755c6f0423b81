using Outpost.Core.Events;

namespace Outpost.Core.Log;

/// <summary>One caller's append, validated and hashed, waiting in a log writer's queue for its group commit.</summary>
internal sealed class AppendRequest(IReadOnlyList<NewEvent> events, ulong[] contentHashes, CursorUpdate? cursor)
{
    /// <summary>Each event's content hash (EventChecksum.Content), computed by the appending thread.</summary>
    public ulong[] ContentHashes { get; } = contentHashes;

    public IReadOnlyList<NewEvent> Events { get; } = events;

    public CursorUpdate? Cursor { get; } = cursor;

    /// <summary>
    /// What a log prepares of its rows on the appending thread, so its single writer does less (the PostgreSQL
    /// log: the events' binary COPY rows but for the fields only the writer knows).
    /// </summary>
    public object? Prepared { get; set; }

    public AppendResult[] Results { get; } = new AppendResult[events.Count];

    public TaskCompletionSource<AppendResult[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One event, validated and hashed on the caller's thread.</summary>
    /// <exception cref="InvalidEventException">The event is invalid.</exception>
    public static AppendRequest One(NewEvent e, int maxEventBytes, NodeId self)
    {
        EventValidator.Validate(e, maxEventBytes);
        return new AppendRequest([e], [ContentHash(e, self)], null);
    }

    /// <summary>A batch and its cursor, validated and hashed on the caller's thread; null when there is nothing to do.</summary>
    /// <exception cref="InvalidEventException">An event is invalid; the message names it.</exception>
    public static AppendRequest? Batch(IReadOnlyList<NewEvent> events, CursorUpdate? cursor, int maxEventBytes, NodeId self)
    {
        ArgumentNullException.ThrowIfNull(events);
        for (var i = 0; i < events.Count; i++)
        {
            try
            {
                EventValidator.Validate(events[i], maxEventBytes);
            }
            catch (InvalidEventException ex)
            {
                throw new InvalidEventException($"Event {i} of the batch: {ex.Message} Nothing of the batch was written.", ex);
            }
        }

        if (cursor is not null && string.IsNullOrWhiteSpace(cursor.Name))
        {
            throw new ArgumentException("A cursor needs a name.", nameof(cursor));
        }

        if (events.Count == 0 && cursor is null)
        {
            return null;
        }

        var hashes = new ulong[events.Count];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = ContentHash(events[i], self);
        }

        return new AppendRequest(events, hashes, cursor);
    }

    /// <summary>Only a cursor move, queued like an append so it commits in order with them.</summary>
    public static AppendRequest CursorOnly(string name, CursorKind kind, long value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new AppendRequest([], [], new CursorUpdate(name, kind, value));
    }

    /// <summary>Hashes on the appending thread, so the single writer only seals the hash with the record's place.</summary>
    private static ulong ContentHash(NewEvent e, NodeId self) =>
        EventChecksum.Current.Content(e.Topic, e.Type, e.Version, e.Key, e.Origin?.Node.Value ?? self.Value, e.Scope.ToString(),
            e.CorrelationId, e.CausationId, e.Payload.Span);
}
