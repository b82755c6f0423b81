using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Outpost.Core.Events;

/// <summary>
/// XxHash64 over a stored event's envelope and payload, sealed with its log sequence number, so that a
/// flipped bit, a torn record or a record moved to another position is noticed when it is read.
/// </summary>
/// <remarks>Not thread-safe: each thread uses its own instance (<see cref="Current"/>).</remarks>
public sealed class EventChecksum
{
    private readonly XxHash64 _hash = new();
    private byte[] _scratch = new byte[256];

    [ThreadStatic]
    private static EventChecksum? t_current;

    /// <summary>This thread's instance, for producers that hash before they queue.</summary>
    public static EventChecksum Current => t_current ??= new EventChecksum();

    /// <summary>
    /// The hash of everything an event carries before a log places it: computed by the appending thread,
    /// so the single writer only has to <see cref="Seal"/> it.
    /// </summary>
    public ulong Content(string topic, string type, int version, string key, string origin, string scope, string? correlationId, string? causationId, ReadOnlySpan<byte> payload)
    {
        var fields = new Utf8Fields(this);
        return Content(fields.Add(topic), fields.Add(type), version, fields.Add(key), fields.Add(origin), fields.Add(scope),
            fields.Add(correlationId), correlationId is null, fields.Add(causationId), causationId is null, payload);
    }

    /// <summary>The same hash from UTF-8 fields, as a reader finds them in a stored row (no string round trip).</summary>
    public ulong Content(ReadOnlySpan<byte> topic, ReadOnlySpan<byte> type, int version, ReadOnlySpan<byte> key, ReadOnlySpan<byte> origin, ReadOnlySpan<byte> scope,
        ReadOnlySpan<byte> correlationId, bool noCorrelationId, ReadOnlySpan<byte> causationId, bool noCausationId, ReadOnlySpan<byte> payload)
    {
        _hash.Reset();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(number, version);
        _hash.Append(number);
        AppendField(topic, false);
        AppendField(type, false);
        AppendField(key, false);
        AppendField(origin, false);
        AppendField(scope, false);
        AppendField(correlationId, noCorrelationId);
        AppendField(causationId, noCausationId);
        _hash.Append(payload);
        return _hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Binds a content hash to the record's place: its sequence, origin sequence and clock timestamp.</summary>
    public static ulong Seal(ulong content, long seq, long originSeq, long hlc)
    {
        Span<byte> record = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(record, content);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], seq);
        BinaryPrimitives.WriteInt64LittleEndian(record[16..], originSeq);
        BinaryPrimitives.WriteInt64LittleEndian(record[24..], hlc);
        return XxHash64.HashToUInt64(record);
    }

    private void AppendField(ReadOnlySpan<byte> utf8, bool isNull)
    {
        // Length-prefixed, so that ("ab","c") and ("a","bc") hash differently; -1 marks null.
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, isNull ? -1 : utf8.Length);
        _hash.Append(length);
        _hash.Append(utf8);
    }

    /// <summary>Encodes strings one after another into the checksum's scratch buffer.</summary>
    private ref struct Utf8Fields(EventChecksum owner)
    {
        private int _used;

        public ReadOnlySpan<byte> Add(string? value)
        {
            if (value is null)
            {
                return default;
            }

            var max = Encoding.UTF8.GetMaxByteCount(value.Length);
            if (owner._scratch.Length - _used < max)
            {
                var bigger = new byte[Math.Max(owner._scratch.Length * 2, _used + max)];
                owner._scratch.AsSpan(0, _used).CopyTo(bigger);
                owner._scratch = bigger;
            }

            var written = Encoding.UTF8.GetBytes(value, owner._scratch.AsSpan(_used));
            var span = owner._scratch.AsSpan(_used, written);
            _used += written;
            return span;
        }
    }
}
