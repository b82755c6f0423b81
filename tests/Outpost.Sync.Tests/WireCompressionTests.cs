using System.Buffers;
using System.Text;
using Outpost.Core.Events;
using Outpost.Sync.Protocol;
using ZstdSharp;

namespace Outpost.Sync.Tests;

/// <summary>The wire's codings and rented buffers: what goes in comes out, and no body expands past its limit.</summary>
public sealed class WireCompressionTests
{
    private static readonly byte[] Batch = EventBatchCodec.Encode([.. Enumerable.Range(1, 500).Select(Sale)]);

    internal static StoredEvent Sale(int i) => new()
    {
        Seq = i,
        Topic = "sales",
        Type = "SaleCompleted",
        Version = 1,
        Key = $"b{i}",
        Scope = Scope.Store("s1"),
        Origin = new EventOrigin(NodeId.Parse("s1"), i, HlcTimestamp.From(1_790_000_000_000, 0)),
        Payload = Encoding.UTF8.GetBytes($$"""{"basket":"b{{i}}","total":"{{i}}.50"}"""),
    };

    [Theory]
    [InlineData("zstd")]
    [InlineData("br")]
    [InlineData("gzip")]
    [InlineData("identity")]
    public void Every_coding_gives_back_the_batch_through_rented_buffers(string coding)
    {
        using var compressed = new PooledBuffer(16);
        WireCompression.Compress(Batch, coding, compressed);
        using var decompressed = new PooledBuffer(16);
        WireCompression.Decompress(compressed.WrittenSpan, coding, Batch.Length, decompressed);

        Assert.Equal(Batch, decompressed.ToArray());
        Assert.Equal(compressed.ToArray(), WireCompression.Compress(Batch, coding));
        var events = EventBatchCodec.Decode(decompressed.WrittenSpan, 1000, 1024);
        Assert.Equal(500, events.Count);
        Assert.Equal("store:s1", events[^1].Scope.ToString());
        Assert.Equal("""{"basket":"b500","total":"500.50"}""", Encoding.UTF8.GetString(events[^1].Payload.Span));
    }

    [Theory]
    [InlineData("zstd")]
    [InlineData("br")]
    [InlineData("gzip")]
    public void A_small_body_that_expands_past_the_limit_is_refused(string coding)
    {
        // 64 MiB of zeros compresses to well under 1 MiB: the limit must hold while expanding, not after.
        var bomb = WireCompression.Compress(new byte[64 * 1024 * 1024], coding);
        Assert.True(bomb.Length < 1024 * 1024, $"{coding}: {bomb.Length} bytes");
        using var output = new PooledBuffer();

        var refused = Assert.Throws<BatchTooLargeException>(() => WireCompression.Decompress(bomb, coding, 1024 * 1024, output));

        Assert.Contains("1048576", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zstd_stream_that_does_not_state_its_size_is_still_bounded()
    {
        // A streamed frame carries no content size, so it cannot be sized up front: it is counted as it expands.
        using var encoded = new MemoryStream();
        using (var zstd = new CompressionStream(encoded, 1))
        {
            zstd.Write(new byte[8 * 1024 * 1024]);
        }

        using var output = new PooledBuffer();
        Assert.Throws<BatchTooLargeException>(() => WireCompression.Decompress(encoded.ToArray(), "zstd", 1024 * 1024, output));

        using var within = new PooledBuffer();
        WireCompression.Decompress(encoded.ToArray(), "zstd", 8 * 1024 * 1024, within);
        Assert.Equal(8 * 1024 * 1024, within.WrittenCount);
    }

    [Fact]
    public void A_damaged_zstd_body_is_a_format_error_not_a_crash()
    {
        var body = WireCompression.Compress(Batch, "zstd");
        body[body.Length / 2] ^= 0xFF;
        using var output = new PooledBuffer();

        // Either zstd notices the damage, or the batch's own checksum does; nothing else escapes.
        Assert.Throws<BatchFormatException>(() =>
        {
            WireCompression.Decompress(body, "zstd", Batch.Length, output);
            EventBatchCodec.Decode(output.WrittenSpan, 1000, 1024);
        });
    }

    [Fact]
    public void Payloads_decoded_into_shared_chunks_each_keep_their_own_bytes_whatever_their_size()
    {
        // Sizes that fill chunks unevenly, cross from one chunk to the next, and one too big to share a chunk.
        var sizes = Enumerable.Range(0, 3_000).Select(i => i == 1_500 ? 40_000 : 1 + i * 37 % 700).ToArray();
        var sent = sizes.Select((size, i) => Sale(i + 1) with { Payload = Enumerable.Range(0, size).Select(b => (byte)(b * 31 + i)).ToArray() }).ToList();

        var events = EventBatchCodec.Decode(EventBatchCodec.Encode(sent), 10_000, 64 * 1024);

        Assert.Equal(sent.Count, events.Count);
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.True(sent[i].Payload.Span.SequenceEqual(events[i].Payload.Span), $"payload {i} ({sizes[i]} bytes) came back as it went");
        }

        // A page of one small event (a store's down feed, one price change) does not cost a whole chunk.
        var one = EventBatchCodec.Encode([Sale(1)]);
        var single = Assert.Single(EventBatchCodec.Decode(one, 10, 1024));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(single.Payload, out var behind));
        Assert.True(behind.Array!.Length <= one.Length, $"a {single.Payload.Length}-byte payload of a {one.Length}-byte batch sits in a {behind.Array.Length}-byte array");
    }

    [Fact]
    public void A_batch_encoded_after_other_bytes_checks_out_on_its_own()
    {
        using var buffer = new PooledBuffer(8);
        buffer.Write("prefix"u8);
        EventBatchCodec.Encode([Sale(1), Sale(2)], [0, 1], buffer);

        var events = EventBatchCodec.Decode(buffer.WrittenSpan[6..], 10, 1024, out var previous);

        Assert.Equal(["b1", "b2"], events.Select(e => e.Key));
        Assert.Equal([0L, 1L], previous);
    }

    [Fact]
    public void A_rented_buffer_keeps_what_was_written_as_it_grows_and_refuses_use_after_dispose()
    {
        var buffer = new PooledBuffer(1);
        var expected = new List<byte>();
        for (var i = 0; i < 100_000; i++)
        {
            buffer.GetSpan(1)[0] = (byte)i;
            buffer.Advance(1);
            expected.Add((byte)i);
        }

        Assert.Equal(expected, buffer.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(buffer.GetSpan().Length + 1));
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.GetSpan(1));
    }
}
