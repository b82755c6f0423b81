using System.Diagnostics;

namespace Outpost.Core.Diagnostics;

/// <summary>
/// Outpost's spans, under the activity source <c>Outpost</c>, and the W3C trace context an event carries in its
/// envelope. With tracing off nothing listens to the source: no span is started and no event carries a context, so
/// the cost is one check per append. A host turns tracing on by exporting the source (see the hosts' tracing setup).
/// </summary>
public static class OutpostTracing
{
    /// <summary>The activity source's name.</summary>
    public const string SourceName = "Outpost";

    /// <summary>The longest trace context an envelope holds: a version-00 W3C <c>traceparent</c> (55 characters).</summary>
    public const int TraceParentLength = 55;

    /// <summary>The source every Outpost span starts from.</summary>
    public static readonly ActivitySource Source = new(SourceName, typeof(OutpostTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Whether anything records Outpost's spans in this process.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// The W3C <c>traceparent</c> of the span the caller is in, for the envelope of an event it records; null when
    /// tracing is off or the span is not sampled (so an unsampled sale carries nothing).
    /// </summary>
    public static string? CurrentTraceParent() =>
        Enabled && Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>Whether <paramref name="traceParent"/> is a version-00 W3C <c>traceparent</c> an envelope may hold.</summary>
    public static bool IsValid(string traceParent) =>
        traceParent is { Length: TraceParentLength } && traceParent.StartsWith("00-", StringComparison.Ordinal)
        && ActivityContext.TryParse(traceParent, null, out _);

    /// <summary>
    /// A trace context as a log read it back, or null when it is not a valid one. The context is outside the record's
    /// checksum (a log the previous release reads back must still pass), so a damaged one is dropped here: it can
    /// misplace a span, never hold up the event.
    /// </summary>
    public static string? Readable(string? stored) => stored is not null && IsValid(stored) ? stored : null;

    /// <summary>
    /// Starts a span in the trace an event carries (its parent is the span that recorded the event, however long
    /// ago and on whichever node), linked to <paramref name="link"/> (the batch or request it is handled in). Null
    /// when tracing is off, the event carries no trace, or the trace is not sampled.
    /// </summary>
    public static Activity? StartForEvent(string name, ActivityKind kind, string? traceParent, ActivityContext link = default, DateTimeOffset startTime = default)
    {
        if (traceParent is null || !Enabled || !ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent))
        {
            return null;
        }

        ActivityLink[]? links = link == default ? null : [new ActivityLink(link)];
        return Source.StartActivity(kind, parent, tags: null, links: links, startTime: startTime, name: name);
    }
}
