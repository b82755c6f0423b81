using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Outpost.Core.Events;

namespace Outpost.Sync.Protocol;

/// <summary>
/// The wire form of a batch of events: <c>OPB1</c>, a varint count, each event's envelope and payload
/// (length-prefixed UTF-8 strings, varints), and an XxHash64 of everything before it. Compact before
/// compression, and any flipped bit or truncation is caught by the trailer before anything is applied.
/// <c>OPB2</c> is the same with each event's W3C trace context after its causation id: it is written only when
/// <c>withTrace</c> is asked and an event of the batch carries one, so a batch without traces stays readable by the
/// previous release. Both are read.
/// </summary>
public static class EventBatchCodec
{
    /// <summary>The media type of an encoded batch.</summary>
    public const string MediaType = "application/vnd.outpost.batch";

    private static ReadOnlySpan<byte> Magic => "OPB1"u8;

    private static ReadOnlySpan<byte> TracedMagic => "OPB2"u8;

    /// <summary>
    /// Encodes events (with their origins) into a new array. <paramref name="previous"/> gives, for each
    /// event, the origin seq of the event before it in its lane (0 when unknown), so the receiver can tell
    /// a batch that overtook its predecessor.
    /// </summary>
    public static byte[] Encode(IReadOnlyList<StoredEvent> events, IReadOnlyList<long>? previous = null, bool withTrace = false)
    {
        using var buffer = new PooledBuffer();
        Encode(events, previous, buffer, withTrace);
        return buffer.ToArray();
    }

    /// <summary>
    /// Encodes events (as <see cref="Encode(IReadOnlyList{StoredEvent}, IReadOnlyList{long}?, bool)"/>) after what
    /// <paramref name="output"/> holds; <paramref name="withTrace"/> keeps their trace contexts (OPB2) when they have any.
    /// </summary>
    public static void Encode(IReadOnlyList<StoredEvent> events, IReadOnlyList<long>? previous, PooledBuffer output, bool withTrace = false)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        var start = output.WrittenCount;
        var traced = withTrace && AnyTraced(events);
        output.Write(traced ? TracedMagic : Magic);
        WriteVarint(output, (ulong)events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            WriteString(output, e.Topic);
            WriteString(output, e.Type);
            WriteVarint(output, (ulong)e.Version);
            WriteString(output, e.Key);
            WriteScope(output, e.Scope);
            WriteNullable(output, e.CorrelationId);
            WriteNullable(output, e.CausationId);
            if (traced)
            {
                WriteNullable(output, e.TraceParent);
            }

            WriteString(output, e.Origin.Node.Value);
            WriteVarint(output, (ulong)e.Origin.Seq);
            WriteVarint(output, (ulong)(previous?[i] ?? 0));
            WriteVarint(output, (ulong)e.Origin.Timestamp.Value);
            WriteVarint(output, (ulong)e.Payload.Length);
            output.Write(e.Payload.Span);
        }

        var hash = XxHash64.HashToUInt64(output.WrittenSpan[start..]);
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), hash);
        output.Advance(8);
    }

    /// <summary>Decodes a batch into events to append (each keeps its origin).</summary>
    /// <exception cref="BatchFormatException">The batch is malformed, truncated, corrupted or over a limit.</exception>
    public static List<NewEvent> Decode(ReadOnlySpan<byte> bytes, int maxEvents, int maxEventBytes) => Decode(bytes, maxEvents, maxEventBytes, out _);

    /// <summary>
    /// Decompresses a body as sent on the wire (at most <paramref name="maxBatchBytes"/> once expanded) and decodes its
    /// batch: what both sides do with what the other sent (an up batch at HQ, a down answer or frame at the store).
    /// </summary>
    /// <exception cref="BatchFormatException">Unknown coding, damaged data, a malformed batch, or over a limit.</exception>
    public static List<NewEvent> DecodeCompressed(ReadOnlySpan<byte> body, string? coding, int maxBatchBytes, int maxEvents, int maxEventBytes, out long[] previous)
    {
        using var batch = new PooledBuffer((int)Math.Min(body.Length * 4L, maxBatchBytes));
        WireCompression.Decompress(body, string.IsNullOrEmpty(coding) ? null : coding, maxBatchBytes, batch);
        return Decode(batch.WrittenSpan, maxEvents, maxEventBytes, out previous);
    }

    /// <summary>Decodes a batch, with each event's predecessor in its lane (0 when unknown).</summary>
    /// <exception cref="BatchFormatException">The batch is malformed, truncated, corrupted or over a limit.</exception>
    public static List<NewEvent> Decode(ReadOnlySpan<byte> bytes, int maxEvents, int maxEventBytes, out long[] previous)
    {
        if (bytes.Length < Magic.Length + 1 + 8)
        {
            throw new BatchFormatException($"The batch is {bytes.Length} bytes: too short to be a batch (truncated?).");
        }

        var traced = bytes[..TracedMagic.Length].SequenceEqual(TracedMagic);
        if (!traced && !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            throw new BatchFormatException(bytes[..3].SequenceEqual("OPB"u8)
                ? $"Batch format '{Encoding.ASCII.GetString(bytes[..4])}' is not supported; this node reads OPB1 and OPB2."
                : "The body is not an Outpost batch (it does not start with OPB1 or OPB2).");
        }

        var body = bytes[..^8];
        var expected = BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]);
        if (XxHash64.HashToUInt64(body) != expected)
        {
            throw new BatchFormatException("The batch checksum does not match its content: it was corrupted or truncated on the way. Nothing was applied.");
        }

        var reader = new SpanReader(body[Magic.Length..], new Dictionary<string, string>(StringComparer.Ordinal));
        var count = reader.Varint();
        if (count > (ulong)maxEvents)
        {
            throw new BatchFormatException($"The batch holds {count} events; the limit is {maxEvents}.");
        }

        var events = new List<NewEvent>((int)count);
        previous = new long[(int)count];
        // Scope and origin repeat across a batch; their interned text maps to one parsed value.
        var scopes = new Dictionary<string, Scope>(ReferenceEqualityComparer.Instance);
        var payloads = new PayloadArena(body.Length);
        var origins = new Dictionary<string, NodeId>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < (int)count; i++)
        {
            var topic = reader.Interned();
            var type = reader.Interned();
            var version = (int)Math.Min(reader.Varint(), int.MaxValue);
            var key = reader.String();
            var scopeText = reader.Interned();
            var correlation = reader.NullableString();
            var causation = reader.NullableString();
            var trace = traced ? reader.NullableString() : null;
            var origin = reader.Interned();
            var originSeq = (long)Math.Min(reader.Varint(), long.MaxValue);
            previous[i] = (long)Math.Min(reader.Varint(), long.MaxValue);
            var hlc = (long)Math.Min(reader.Varint(), long.MaxValue);
            var length = reader.Varint();
            if (length > (ulong)maxEventBytes)
            {
                throw new BatchFormatException($"Event {i} of the batch has a {length}-byte payload; the limit is {maxEventBytes} bytes.");
            }

            var payload = payloads.Copy(reader.Bytes((int)length));
            if (!scopes.TryGetValue(scopeText, out var scope))
            {
                scope = Scope.TryParse(scopeText, out var parsed)
                    ? parsed
                    : throw new BatchFormatException($"Event {i} of the batch has scope '{scopeText}', which is not of a known form ('*', 'region:<id>', 'store:<id>').");
                scopes[scopeText] = scope;
            }

            if (!origins.TryGetValue(origin, out var node))
            {
                node = NodeId.TryParse(origin, out var parsed)
                    ? parsed
                    : throw new BatchFormatException($"Event {i} of the batch has origin '{origin}', which is not a valid node id.");
                origins[origin] = node;
            }

            events.Add(new NewEvent
            {
                Topic = topic,
                Type = type,
                Version = version,
                Key = key,
                Scope = scope,
                CorrelationId = correlation,
                CausationId = causation,
                TraceParent = trace,
                Payload = payload,
                Origin = new EventOrigin(node, originSeq, new HlcTimestamp(hlc)),
            });
        }

        if (!reader.AtEnd)
        {
            throw new BatchFormatException("The batch has bytes after its last event.");
        }

        return events;
    }

    private static bool AnyTraced(IReadOnlyList<StoredEvent> events)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].TraceParent is not null)
            {
                return true;
            }
        }

        return false;
    }

    private static void WriteVarint(PooledBuffer writer, ulong value)
    {
        var span = writer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        writer.Advance(i);
    }

    private static void WriteString(PooledBuffer writer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteVarint(writer, (ulong)length);
        Encoding.UTF8.GetBytes(value, writer.GetSpan(length));
        writer.Advance(length);
    }

    /// <summary>A scope as its text (<c>*</c>, <c>region:&lt;id&gt;</c>, <c>store:&lt;id&gt;</c>) without building the string.</summary>
    private static void WriteScope(PooledBuffer writer, Scope scope)
    {
        var prefix = scope.Kind switch
        {
            ScopeKind.All => "*"u8,
            ScopeKind.Region => "region:"u8,
            _ => "store:"u8,
        };
        var id = scope.Id ?? string.Empty;
        var idLength = Encoding.UTF8.GetByteCount(id);
        WriteVarint(writer, (ulong)(prefix.Length + idLength));
        writer.Write(prefix);
        Encoding.UTF8.GetBytes(id, writer.GetSpan(idLength));
        writer.Advance(idLength);
    }

    private static void WriteNullable(PooledBuffer writer, string? value)
    {
        // Length + 1, so that 0 means null and 1 the empty string.
        if (value is null)
        {
            WriteVarint(writer, 0);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        WriteVarint(writer, (ulong)length + 1);
        Encoding.UTF8.GetBytes(value, writer.GetSpan(length));
        writer.Advance(length);
    }

    /// <summary>
    /// The decoded payloads of one batch, carved out of shared chunks instead of one array each: a batch of 2,000
    /// events is a few objects for the garbage collector to trace while it waits for its commit, not 2,000. A chunk
    /// is at most 64 KB (under the large-object threshold) and never more than the rest of the batch could hold, so
    /// a down-feed page of one price change costs its own few bytes; a payload bigger than 16 KB gets its own array.
    /// </summary>
    /// <param name="bound">The batch's size: no more payload bytes than that are to come.</param>
    private struct PayloadArena(int bound)
    {
        private const int ChunkBytes = 64 * 1024;
        private byte[]? _chunk;
        private int _used;
        private int _remaining = bound;

        public ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> payload)
        {
            _remaining -= payload.Length;
            if (payload.Length > ChunkBytes / 4)
            {
                return payload.ToArray();
            }

            if (_chunk is null || _used + payload.Length > _chunk.Length)
            {
                _chunk = new byte[Math.Min(ChunkBytes, payload.Length + Math.Max(0, _remaining))];
                _used = 0;
            }

            payload.CopyTo(_chunk.AsSpan(_used));
            var memory = new ReadOnlyMemory<byte>(_chunk, _used, payload.Length);
            _used += payload.Length;
            return memory;
        }
    }

    private ref struct SpanReader(ReadOnlySpan<byte> bytes, Dictionary<string, string> strings)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _strings = strings.GetAlternateLookup<ReadOnlySpan<char>>();
        private int _position;

        public readonly bool AtEnd => _position == _bytes.Length;

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _bytes.Length)
                {
                    throw new BatchFormatException("The batch ends in the middle of a number (truncated).");
                }

                var b = _bytes[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new BatchFormatException("The batch has a number longer than 64 bits.");
        }

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (length < 0 || _bytes.Length - _position < length)
            {
                throw new BatchFormatException("The batch ends in the middle of a field (truncated).");
            }

            var span = _bytes.Slice(_position, length);
            _position += length;
            return span;
        }

        public string String()
        {
            var length = Varint();
            if (length > 1024 * 1024)
            {
                throw new BatchFormatException($"The batch has a {length}-byte string field; the limit is 1 MiB.");
            }

            return Encoding.UTF8.GetString(Bytes((int)length));
        }

        /// <summary>A string that repeats across a batch (topic, type, scope, origin): one instance per value.</summary>
        public string Interned()
        {
            var length = Varint();
            if (length > 256)
            {
                return Encoding.UTF8.GetString(Bytes((int)length));
            }

            var bytes = Bytes((int)length);
            Span<char> chars = stackalloc char[256];
            var count = Encoding.UTF8.GetChars(bytes, chars);
            if (!_strings.TryGetValue(chars[..count], out var value))
            {
                value = new string(chars[..count]);
                _strings[value] = value;
            }

            return value;
        }

        public string? NullableString()
        {
            var length = Varint();
            if (length == 0)
            {
                return null;
            }

            if (length > 1024 * 1024)
            {
                throw new BatchFormatException($"The batch has a {length - 1}-byte string field; the limit is 1 MiB.");
            }

            return Encoding.UTF8.GetString(Bytes((int)(length - 1)));
        }
    }
}
