using System.Diagnostics;
using Outpost.Core.Diagnostics;
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

    /// <summary>
    /// The span of the durable append (<c>outpost.log append</c>, in the caller's trace), started before the request is
    /// queued so it covers the wait for the group commit; null with tracing off or for a cursor move.
    /// </summary>
    public Activity? StartSpan(string system)
    {
        if (Events.Count == 0 || !OutpostTracing.Enabled || OutpostTracing.Source.StartActivity("outpost.log append") is not { } span)
        {
            return null;
        }

        span.SetTag("db.system.name", system);
        span.SetTag("outpost.events", Events.Count);
        return span;
    }

    /// <summary>Waits for the group commit that holds this request, and records its outcome on <paramref name="span"/>.</summary>
    public async Task<AppendResult[]> CommittedAsync(Activity? span)
    {
        if (span is null)
        {
            return await Completion.Task;
        }

        try
        {
            var results = await Completion.Task;
            span.SetTag("outpost.seq", results[0].Seq);
            span.SetTag("outpost.duplicates", results.Count(r => r.Duplicate));
            return results;
        }
        catch (Exception ex)
        {
            span.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            span.Dispose();
        }
    }

    /// <summary>One event, validated and hashed on the caller's thread.</summary>
    /// <exception cref="InvalidEventException">The event is invalid.</exception>
    public static AppendRequest One(NewEvent e, int maxEventBytes, NodeId self)
    {
        EventValidator.Validate(e, maxEventBytes);
        if (OutpostTracing.CurrentTraceParent() is { } trace)
        {
            e = Traced(e, trace);
        }

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

        if (OutpostTracing.CurrentTraceParent() is { } trace)
        {
            events = Traced(events, trace);
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

    /// <summary>The caller's span in the envelope of an event recorded here; a replica keeps the trace it came with.</summary>
    private static NewEvent Traced(NewEvent e, string trace) => e.Origin is null && e.TraceParent is null ? e with { TraceParent = trace } : e;

    /// <summary>
    /// <see cref="Traced(NewEvent, string)"/> over a batch, copied only when an event takes the trace: a batch of
    /// replicas (HQ storing a store's upload inside its request's span) goes on as it came.
    /// </summary>
    private static IReadOnlyList<NewEvent> Traced(IReadOnlyList<NewEvent> events, string trace)
    {
        NewEvent[]? traced = null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = Traced(events[i], trace);
            if (!ReferenceEquals(e, events[i]))
            {
                traced ??= [.. events];
                traced[i] = e;
            }
        }

        return traced ?? events;
    }

    /// <summary>Hashes on the appending thread, so the single writer only seals the hash with the record's place.</summary>
    private static ulong ContentHash(NewEvent e, NodeId self) =>
        EventChecksum.Current.Content(e.Topic, e.Type, e.Version, e.Key, e.Origin?.Node.Value ?? self.Value, e.Scope.ToString(),
            e.CorrelationId, e.CausationId, e.Payload.Span);
}
