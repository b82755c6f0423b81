using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Outpost.Core.Events;

/// <summary>
/// An event to append. Leave <see cref="Origin"/> null for an event recorded here: the log stamps it
/// with this node, the next origin sequence number and a clock timestamp. Set it for an event that
/// was first recorded elsewhere (replication): appending the same origin twice is a no-op.
/// </summary>
public sealed record NewEvent
{
    /// <summary>The topic, for example <c>sales</c> or <c>prices</c>: lower-case letters, digits, '.', '-', '_'.</summary>
    public required string Topic { get; init; }

    /// <summary>The event type within the topic, for example <c>SaleCompleted</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The schema version of <see cref="Type"/>, 1 or more.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The entity the event is about (a GTIN, a basket id); compaction keeps the newest per key.</summary>
    public required string Key { get; init; }

    /// <summary>Who receives the event: <c>*</c>, a region or a store.</summary>
    public Scope Scope { get; init; } = Scope.All;

    /// <summary>The payload: one UTF-8 JSON value.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Groups the events of one business flow.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The event or command that caused this one.</summary>
    public string? CausationId { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the span that recorded the event, so spans that handle it later, on any node,
    /// join that trace. Left null, a log stamps a local event with the caller's span when tracing is on.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>Null for an event recorded here; the original origin for a replicated event.</summary>
    public EventOrigin? Origin { get; init; }

    /// <summary>Serialises a payload with source-generated metadata (no reflection).</summary>
    public static byte[] Json<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
}
