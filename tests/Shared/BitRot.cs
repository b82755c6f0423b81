using System.Text;

namespace Outpost.Testing;

/// <summary>Damage to a log file as a flipped bit on disk does it, for the tests of what the log and its readers do then.</summary>
internal static class BitRot
{
    /// <summary>
    /// Flips one bit of <paramref name="marker"/> (a string unique to one record's payload) in every copy of it in the
    /// file at <paramref name="path"/>: SQLite can leave stale copies of a cell in free space, so the live one is hit.
    /// </summary>
    public static async Task FlipMarkerAsync(string path, string marker, CancellationToken cancellationToken)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        var needle = Encoding.UTF8.GetBytes(marker);
        var flipped = 0;
        for (var at = bytes.AsSpan().IndexOf(needle); at >= 0; at = bytes.AsSpan().IndexOf(needle))
        {
            bytes[at + 3] ^= 0x01;
            flipped++;
        }

        if (flipped == 0)
        {
            throw new InvalidOperationException($"The marker {marker} is not in {path}: nothing to damage.");
        }

        await File.WriteAllBytesAsync(path, bytes, cancellationToken);
    }
}
