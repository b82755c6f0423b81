using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Outpost.Core.Events;

/// <summary>An event as a log holds it: the envelope, the payload and the sequence it got in this log.</summary>
public sealed record StoredEvent
{
    /// <summary>This log's sequence number: one total order, no gaps except what retention removed.</summary>
    public required long Seq { get; init; }

    /// <summary>The topic.</summary>
    public required string Topic { get; init; }

    /// <summary>The event type.</summary>
    public required string Type { get; init; }

    /// <summary>The schema version of the type.</summary>
    public required int Version { get; init; }

    /// <summary>The entity key.</summary>
    public required string Key { get; init; }

    /// <summary>The routing scope.</summary>
    public required Scope Scope { get; init; }

    /// <summary>Where and when the event was first recorded.</summary>
    public required EventOrigin Origin { get; init; }

    /// <summary>Correlation id, if any.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>Causation id, if any.</summary>
    public string? CausationId { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the span that recorded the event, when it was traced.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The UTF-8 JSON payload.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Deserialises the payload with source-generated metadata.</summary>
    public T Deserialize<T>(JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Deserialize(Payload.Span, typeInfo)
        ?? throw new JsonException($"Event {Seq} ({Topic}/{Type}) has a null payload.");

    /// <summary>The event as something to append elsewhere, keeping its origin (for replication).</summary>
    public NewEvent ToReplica() => new()
    {
        Topic = Topic,
        Type = Type,
        Version = Version,
        Key = Key,
        Scope = Scope,
        Payload = Payload,
        CorrelationId = CorrelationId,
        CausationId = CausationId,
        TraceParent = TraceParent,
        Origin = Origin,
    };
}
