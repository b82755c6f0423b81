using System.Buffers;
using System.IO.Compression;
using ZstdSharp;

namespace Outpost.Sync.Protocol;

/// <summary>
/// The content codings of the sync wire: <c>zstd</c> (preferred), <c>br</c>, <c>gzip</c>, <c>identity</c>.
/// Decompression is bounded, so a small body cannot expand into an unbounded one.
/// </summary>
public static class WireCompression
{
    /// <summary>Codings this side reads and writes, best first.</summary>
    public static IReadOnlyList<string> Supported { get; } = ["zstd", "br", "gzip", "identity"];

    /// <summary>Whether a coding name is known.</summary>
    public static bool IsSupported(string? coding) => coding is null || Supported.Contains(Normalize(coding));

    /// <summary>The best coding both sides know from an <c>Accept-Encoding</c> value.</summary>
    public static string Choose(string? acceptEncoding)
    {
        if (string.IsNullOrWhiteSpace(acceptEncoding))
        {
            return "identity";
        }

        var offered = acceptEncoding.Split(',').Select(part => part.Split(';')[0].Trim().ToLowerInvariant()).ToHashSet();
        return Supported.FirstOrDefault(offered.Contains) ?? "identity";
    }

    /// <summary>Compresses with a coding.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> data, string coding)
    {
        using var output = new PooledBuffer(data.Length / 4);
        Compress(data, coding, output);
        return output.ToArray();
    }

    /// <summary>Compresses with a coding, after what <paramref name="output"/> holds.</summary>
    public static void Compress(ReadOnlySpan<byte> data, string coding, PooledBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (Normalize(coding))
        {
            case "identity":
                output.Write(data);
                return;
            case "zstd":
                // Level 1: the wire is already small (about 25 bytes a sale); CPU is what a backlog costs. Contexts
                // are reused: creating one per batch cost more than compressing.
                var compressor = Compressors.Rent();
                try
                {
                    output.Advance(compressor.Wrap(data, output.GetSpan(Compressor.GetCompressBound(data.Length))));
                }
                finally
                {
                    Compressors.Return(compressor);
                }

                return;
            default:
                using (var stream = new BufferStream(output))
                using (Stream compressing = Normalize(coding) == "br"
                    ? new BrotliStream(stream, CompressionLevel.Fastest, leaveOpen: true)
                    : new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
                {
                    compressing.Write(data);
                }

                return;
        }
    }

    /// <summary>Decompresses at most <paramref name="maxBytes"/> into <paramref name="output"/>.</summary>
    /// <exception cref="BatchFormatException">Unknown coding, damaged data, or more than the limit.</exception>
    public static void Decompress(ReadOnlySpan<byte> data, string? coding, int maxBytes, PooledBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var name = Normalize(coding ?? "identity");
        if (name == "identity")
        {
            output.Write(data.Length <= maxBytes ? data : throw TooLarge(maxBytes));
            return;
        }

        try
        {
            if (name == "zstd" && ZstdBound(data) is { } bound && bound <= (ulong)maxBytes)
            {
                // The frame states its size (our stores always write it), so it is decompressed in one call into a
                // buffer of that size; a frame that does not say, or says more than the limit, is streamed below,
                // where the limit is counted as it expands.
                var decompressor = Decompressors.Rent();
                try
                {
                    output.Advance(decompressor.Unwrap(data, output.GetSpan((int)Math.Max(bound, 1))));
                }
                finally
                {
                    Decompressors.Return(decompressor);
                }

                return;
            }

            using var input = new MemoryStream(data.ToArray(), writable: false);
            using Stream stream = name switch
            {
                "zstd" => new DecompressionStream(input),
                "br" => new BrotliStream(input, CompressionMode.Decompress),
                "gzip" => new GZipStream(input, CompressionMode.Decompress),
                _ => throw new BatchFormatException($"Content-Encoding '{coding}' is not supported; use one of: {string.Join(", ", Supported)}."),
            };
            var start = output.WrittenCount;
            int read;
            while ((read = stream.Read(output.GetSpan(64 * 1024))) > 0)
            {
                if (output.WrittenCount - start + read > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }

                output.Advance(read);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or ZstdException or IOException or InvalidOperationException)
        {
            // Brotli's decoder reports damaged data as InvalidOperationException ("Decoder ran into invalid data"): found
            // by fuzzing (fuzz/regressions/batch), it was a 500 where a 400 is due.
            throw new BatchFormatException($"The body could not be decompressed as {name}: {ex.Message}", ex);
        }
    }

    private static readonly ContextPool<Compressor> Compressors = new(() => new Compressor(1));

    private static readonly ContextPool<Decompressor> Decompressors = new(() => new Decompressor());

    /// <summary>What a zstd frame says it expands to at most; null when it cannot say.</summary>
    private static ulong? ZstdBound(ReadOnlySpan<byte> data)
    {
        try
        {
            return Decompressor.GetDecompressedSize(data);
        }
        catch (ZstdException)
        {
            return null;
        }
    }

    private static BatchTooLargeException TooLarge(int maxBytes) => new($"The batch is larger than {maxBytes} bytes once decompressed.");

    private static string Normalize(string coding) => coding.Trim().ToLowerInvariant();
}

/// <summary>A batch over the size limits: HTTP 413.</summary>
public sealed class BatchTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BatchTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BatchTooLargeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public BatchTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A write-only stream into a <see cref="PooledBuffer"/>, for the codings that only come as streams.</summary>
internal sealed class BufferStream(PooledBuffer output) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => output.WrittenCount;

    public override long Position { get => output.WrittenCount; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => output.Write(buffer);
}

/// <summary>
/// A few zstd contexts kept for reuse (each holds its own native memory): at most two per core are kept, so a burst
/// of concurrent batches does not leave a context behind on every thread-pool thread it touched.
/// </summary>
internal sealed class ContextPool<T>(Func<T> create)
    where T : class, IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<T> _idle = new();
    private readonly int _keep = Environment.ProcessorCount * 2;
    private int _count;

    public T Rent()
    {
        if (_idle.TryDequeue(out var context))
        {
            Interlocked.Decrement(ref _count);
            return context;
        }

        return create();
    }

    public void Return(T context)
    {
        if (Interlocked.Increment(ref _count) <= _keep)
        {
            _idle.Enqueue(context);
            return;
        }

        Interlocked.Decrement(ref _count);
        context.Dispose();
    }
}
