using System.Buffers;
using System.Buffers.Binary;
using Outpost.Core.Events;

namespace Outpost.Sync.Protocol;

/// <summary>
/// One frame of the streamed down feed (<see cref="SyncWire.DownStreamPath"/>): what a long poll's answer carries,
/// without a request for each. A frame is a 22-byte header (<c>'O'</c>, flags, the cursor the store moves to, HQ's
/// head, the body's length, little-endian) and a body: the events as <see cref="EventBatchCodec"/> encodes them,
/// zstd-compressed when flag 1 is set. A frame with no events keeps the connection alive and moves the cursor.
/// </summary>
public static class DownStreamFrame
{
    /// <summary>The stream's media type.</summary>
    public const string MediaType = "application/vnd.outpost.down-stream";

    /// <summary>Bodies this long or longer are compressed (when the store accepts zstd): smaller ones gain nothing.</summary>
    public const int CompressFrom = 1024;

    private const byte Magic = (byte)'O';
    private const byte Zstd = 1;
    private const int HeaderBytes = 22;

    /// <summary>
    /// A frame's body for <paramref name="events"/>, in an array of its own: HQ encodes a page once for every stream
    /// that sends the same events (<see cref="Hq.DownFeed.Encoded"/>), and writes it with <see cref="Write(ReadOnlySpan{byte}, bool, long, long, IBufferWriter{byte})"/>.
    /// </summary>
    public static (byte[] Body, bool Compressed) EncodeBody(IReadOnlyList<StoredEvent> events, bool zstd)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var batch = new PooledBuffer(4096);
        EventBatchCodec.Encode(events, null, batch);
        if (!zstd || batch.WrittenCount < CompressFrom)
        {
            return (batch.WrittenSpan.ToArray(), false);
        }

        using var compressed = new PooledBuffer(batch.WrittenCount / 2);
        WireCompression.Compress(batch.WrittenSpan, "zstd", compressed);
        return (compressed.WrittenSpan.ToArray(), true);
    }

    /// <summary>
    /// Writes a frame of an encoded body (zstd-compressed when <paramref name="compressed"/>) into
    /// <paramref name="output"/>: on HQ, the response's own pipe. A keep-alive frame has an empty body.
    /// </summary>
    public static void Write(ReadOnlySpan<byte> body, bool compressed, long next, long head, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var header = output.GetSpan(HeaderBytes);
        header[0] = Magic;
        header[1] = compressed ? Zstd : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], next);
        BinaryPrimitives.WriteInt64LittleEndian(header[10..], head);
        BinaryPrimitives.WriteInt32LittleEndian(header[18..], body.Length);
        output.Advance(HeaderBytes);
        output.Write(body);
    }

    /// <summary>
    /// Reads the next frame; null when the stream ended cleanly between frames (HQ closed it: connect again).
    /// </summary>
    /// <exception cref="BatchFormatException">A damaged or oversized frame.</exception>
    /// <exception cref="IOException">The stream ended inside a frame.</exception>
    public static async Task<(IReadOnlyList<NewEvent> Events, long Next, long Head)?> ReadAsync(Stream stream, int maxBytes, int maxEventBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[HeaderBytes];
        var first = await stream.ReadAsync(header.AsMemory(0, 1), cancellationToken);
        if (first == 0)
        {
            return null;
        }

        await stream.ReadExactlyAsync(header.AsMemory(1), cancellationToken);
        if (header[0] != Magic || (header[1] & ~Zstd) != 0)
        {
            throw new BatchFormatException("Not a down-stream frame: HQ and this store do not speak the same stream format.");
        }

        var next = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(2));
        var head = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(10));
        var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(18));
        if (length < 0 || length > maxBytes)
        {
            throw new BatchFormatException($"A down-stream frame of {length} bytes; the limit is {maxBytes}.");
        }

        if (length == 0)
        {
            return ([], next, head);
        }

        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken);
        return (EventBatchCodec.DecodeCompressed(body, header[1] == Zstd ? "zstd" : null, maxBytes, int.MaxValue, maxEventBytes, out _), next, head);
    }
}
