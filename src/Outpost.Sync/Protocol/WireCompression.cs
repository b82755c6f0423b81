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
        switch (Normalize(coding))
        {
            case "identity":
                return data.ToArray();
            case "zstd":
                // Level 1: the wire is already small (about 25 bytes a sale); CPU is what a backlog costs.
                using (var compressor = new Compressor(1))
                {
                    return compressor.Wrap(data).ToArray();
                }

            default:
                using (var output = new MemoryStream())
                {
                    using (Stream stream = Normalize(coding) == "br"
                        ? new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true)
                        : new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                    {
                        stream.Write(data);
                    }

                    return output.ToArray();
                }
        }
    }

    /// <summary>Decompresses at most <paramref name="maxBytes"/>.</summary>
    /// <exception cref="BatchFormatException">Unknown coding, damaged data, or more than the limit.</exception>
    public static byte[] Decompress(byte[] data, string? coding, int maxBytes)
    {
        var name = Normalize(coding ?? "identity");
        if (name == "identity")
        {
            return data.Length <= maxBytes ? data : throw TooLarge(maxBytes);
        }

        try
        {
            using var input = new MemoryStream(data);
            using Stream stream = name switch
            {
                "zstd" => new DecompressionStream(input),
                "br" => new BrotliStream(input, CompressionMode.Decompress),
                "gzip" => new GZipStream(input, CompressionMode.Decompress),
                _ => throw new BatchFormatException($"Content-Encoding '{coding}' is not supported; use one of: {string.Join(", ", Supported)}."),
            };
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                if (output.Length + read > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (Exception ex) when (ex is InvalidDataException or ZstdException or IOException)
        {
            throw new BatchFormatException($"The body could not be decompressed as {name}: {ex.Message}", ex);
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
