using System.Diagnostics;
using Outpost.Core.Events;

namespace Outpost.Core.Diagnostics;

/// <summary>
/// One span per traced event of a batch, each in the trace its event carries and linked to the span that handles the
/// batch (an up-link request, an ingest), so a sale's trace shows the batch it went up in and HQ storing it however
/// long after the sale that was. Ended together; with tracing off, or no traced event, it holds nothing.
/// </summary>
public sealed class EventSpans : IDisposable
{
    private static readonly EventSpans None = new([]);
    private readonly List<(Activity Span, int Index)> _spans;

    private EventSpans(List<(Activity Span, int Index)> spans) => _spans = spans;

    /// <summary>How many spans it holds.</summary>
    public int Count => _spans.Count;

    /// <summary>Starts a span named <c>{name} {type}</c> for each traced event; <paramref name="tag"/> adds the caller's tags.</summary>
    public static EventSpans Start<T>(string name, ActivityKind kind, IReadOnlyList<T> events, Func<T, (string Type, string? TraceParent)> envelope,
        Action<Activity, int>? tag = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(envelope);
        if (!OutpostTracing.Enabled || events.Count == 0)
        {
            return None;
        }

        // Starting a span makes it the current one: the batch's own span stays current for what the caller does next.
        var current = Activity.Current;
        var link = current?.Context ?? default;
        List<(Activity Span, int Index)>? spans = null;
        for (var i = 0; i < events.Count; i++)
        {
            var (type, trace) = envelope(events[i]);
            if (OutpostTracing.StartForEvent($"{name} {type}", kind, trace, link) is { } span)
            {
                tag?.Invoke(span, i);
                (spans ??= []).Add((span, i));
            }
        }

        Activity.Current = current;
        return spans is null ? None : new EventSpans(spans);
    }

    /// <summary>Starts a span for each traced event of a batch of stored events.</summary>
    public static EventSpans Start(string name, ActivityKind kind, IReadOnlyList<StoredEvent> events, Action<Activity, int>? tag = null) =>
        Start(name, kind, events, static e => (e.Type, e.TraceParent), tag);

    /// <summary>Starts a span for each traced event of a batch of events to append.</summary>
    public static EventSpans Start(string name, ActivityKind kind, IReadOnlyList<NewEvent> events, Action<Activity, int>? tag = null) =>
        Start(name, kind, events, static e => (e.Type, e.TraceParent), tag);

    /// <summary>Tags each span with what became of its event (given the event's index in the batch).</summary>
    public void Tag(Action<Activity, int> tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        foreach (var (span, index) in _spans)
        {
            tag(span, index);
        }
    }

    /// <summary>Marks every span failed with the batch's error.</summary>
    public void Fail(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        foreach (var (span, _) in _spans)
        {
            span.SetStatus(ActivityStatusCode.Error, error.Message);
        }
    }

    /// <summary>Ends every span.</summary>
    public void Dispose()
    {
        foreach (var (span, _) in _spans)
        {
            span.Dispose();
        }
    }
}
