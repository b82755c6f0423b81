using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Outpost.Core.Events;

/// <summary>
/// XxHash64 over a stored event's envelope and payload, including its log sequence number, so that a
/// flipped bit, a torn record or a record moved to another position is noticed when it is read.
/// </summary>
/// <remarks>Not thread-safe: each reader or writer keeps its own instance.</remarks>
public sealed class EventChecksum
{
    private readonly XxHash64 _hash = new();
    private byte[] _scratch = new byte[256];

    /// <summary>Computes the checksum of one stored record.</summary>
    public ulong Compute(long seq, string topic, string type, int version, string key, string origin, long originSeq, long hlc,
        string scope, string? correlationId, string? causationId, ReadOnlySpan<byte> payload)
    {
        _hash.Reset();
        Span<byte> numbers = stackalloc byte[28];
        BinaryPrimitives.WriteInt64LittleEndian(numbers, seq);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], originSeq);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[16..], hlc);
        BinaryPrimitives.WriteInt32LittleEndian(numbers[24..], version);
        _hash.Append(numbers);
        AppendString(topic);
        AppendString(type);
        AppendString(key);
        AppendString(origin);
        AppendString(scope);
        AppendString(correlationId);
        AppendString(causationId);
        _hash.Append(payload);
        return _hash.GetCurrentHashAsUInt64();
    }

    private void AppendString(string? value)
    {
        // Length-prefixed, so that ("ab","c") and ("a","bc") hash differently; -1 marks null.
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(length, -1);
            _hash.Append(length);
            return;
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_scratch.Length < max)
        {
            _scratch = new byte[Math.Max(max, _scratch.Length * 2)];
        }

        var written = Encoding.UTF8.GetBytes(value, _scratch);
        BinaryPrimitives.WriteInt32LittleEndian(length, written);
        _hash.Append(length);
        _hash.Append(_scratch.AsSpan(0, written));
    }
}
