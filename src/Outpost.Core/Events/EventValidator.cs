using System.Text.Json;

namespace Outpost.Core.Events;

/// <summary>Checks an event before it is appended, so that a refused event writes nothing.</summary>
public static class EventValidator
{
    /// <summary>The default limit on an event's size (payload and envelope): 256 KiB.</summary>
    public const int DefaultMaxEventBytes = 256 * 1024;

    private const int MaxNameLength = 100;
    private const int MaxKeyLength = 256;

    /// <summary>Throws <see cref="InvalidEventException"/> naming the first problem found.</summary>
    public static void Validate(NewEvent e, int maxEventBytes = DefaultMaxEventBytes)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (string.IsNullOrEmpty(e.Topic))
        {
            throw new InvalidEventException("Event topic is empty: every event needs a topic such as 'sales'.");
        }

        if (e.Topic.Length > MaxNameLength || !IsTopicName(e.Topic))
        {
            throw new InvalidEventException($"Event topic '{Clip(e.Topic)}' is not valid: use at most {MaxNameLength} lower-case letters, digits, '.', '-' or '_'.");
        }

        if (string.IsNullOrWhiteSpace(e.Type) || e.Type.Length > MaxNameLength)
        {
            throw new InvalidEventException($"Event type '{Clip(e.Type)}' on topic '{e.Topic}' is not valid: it must be 1-{MaxNameLength} characters.");
        }

        if (e.Version < 1)
        {
            throw new InvalidEventException($"Event version {e.Version} of '{e.Type}' is not valid: versions start at 1.");
        }

        if (string.IsNullOrEmpty(e.Key) || e.Key.Length > MaxKeyLength)
        {
            throw new InvalidEventException($"Event key of '{e.Type}' is {(string.IsNullOrEmpty(e.Key) ? "empty" : $"{e.Key.Length} characters long")}: it must be 1-{MaxKeyLength} characters.");
        }

        if (e.Scope.Kind != ScopeKind.All && !Scope.IsValidId(e.Scope.Id))
        {
            throw new InvalidEventException($"Event scope of '{e.Type}' is not of a known form: use '*', 'region:<id>' or 'store:<id>'.");
        }

        if (e.CorrelationId is { Length: > MaxNameLength } || e.CausationId is { Length: > MaxNameLength })
        {
            throw new InvalidEventException($"Correlation and causation ids of '{e.Type}' must be at most {MaxNameLength} characters.");
        }

        if (e.TraceParent is { } trace && !Diagnostics.OutpostTracing.IsValid(trace))
        {
            throw new InvalidEventException(
                $"Trace context of '{e.Type}' is not a W3C traceparent ('00-<32 hex trace id>-<16 hex span id>-<2 hex flags>'): '{Clip(trace)}'.");
        }

        if (e.Origin is { } origin)
        {
            if (origin.Node.Value is null)
            {
                throw new InvalidEventException($"Event '{e.Type}' has an origin with no node id.");
            }

            if (origin.Seq < 1)
            {
                throw new InvalidEventException($"Event '{e.Type}' from '{origin.Node}' has origin seq {origin.Seq}: origin sequence numbers start at 1.");
            }

            if (origin.Timestamp.Value < 0)
            {
                throw new InvalidEventException($"Event '{e.Type}' from '{origin.Node}' has a negative clock timestamp.");
            }
        }

        var size = EnvelopeSize(e) + e.Payload.Length;
        if (size > maxEventBytes)
        {
            throw new InvalidEventException($"Event '{e.Type}' on topic '{e.Topic}' is {size} bytes; the limit is {maxEventBytes} bytes.");
        }

        if (e.Payload.IsEmpty)
        {
            throw new InvalidEventException($"Event '{e.Type}' on topic '{e.Topic}' has an empty payload: it must be one JSON value, for example {{}}.");
        }

        try
        {
            var reader = new Utf8JsonReader(e.Payload.Span, new JsonReaderOptions { MaxDepth = 64 });
            while (reader.Read())
            {
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidEventException($"Event '{e.Type}' on topic '{e.Topic}' has a payload that is not valid JSON: {ex.Message}", ex);
        }
    }

    internal static int EnvelopeSize(NewEvent e) =>
        e.Topic.Length + e.Type.Length + e.Key.Length + (e.CorrelationId?.Length ?? 0) + (e.CausationId?.Length ?? 0) + (e.TraceParent?.Length ?? 0) + 64;

    private static bool IsTopicName(string topic)
    {
        foreach (var c in topic)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Clip(string? s) => s is null ? "(null)" : s.Length <= 40 ? s : s[..40] + "…";
}
