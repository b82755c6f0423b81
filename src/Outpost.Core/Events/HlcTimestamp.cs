using System.Globalization;

namespace Outpost.Core.Events;

/// <summary>
/// A hybrid logical clock timestamp: milliseconds since the Unix epoch in the high 48 bits and a
/// logical counter in the low 16 bits, packed in one <see cref="long"/> so that timestamps order as numbers.
/// </summary>
public readonly record struct HlcTimestamp(long Value) : IComparable<HlcTimestamp>
{
    /// <summary>Bits used by the logical counter.</summary>
    public const int CounterBits = 16;

    private const long CounterMask = (1L << CounterBits) - 1;

    /// <summary>The smallest timestamp; what a clock that has seen nothing holds.</summary>
    public static readonly HlcTimestamp Zero = new(0);

    /// <summary>Physical part, milliseconds since the Unix epoch.</summary>
    public long PhysicalMilliseconds => Value >> CounterBits;

    /// <summary>Logical counter within the millisecond.</summary>
    public int Counter => (int)(Value & CounterMask);

    /// <summary>The physical part as an instant.</summary>
    public DateTimeOffset PhysicalTime => DateTimeOffset.FromUnixTimeMilliseconds(PhysicalMilliseconds);

    /// <summary>Builds a timestamp from its parts.</summary>
    public static HlcTimestamp From(long physicalMilliseconds, int counter)
    {
        if (physicalMilliseconds < 0 || physicalMilliseconds >= 1L << (63 - CounterBits))
        {
            throw new ArgumentOutOfRangeException(nameof(physicalMilliseconds), physicalMilliseconds, "Physical time must be between 0 and 2^47 ms after the Unix epoch.");
        }

        if (counter < 0 || counter > CounterMask)
        {
            throw new ArgumentOutOfRangeException(nameof(counter), counter, $"Counter must be between 0 and {CounterMask}.");
        }

        return new HlcTimestamp((physicalMilliseconds << CounterBits) | (long)counter);
    }

    /// <inheritdoc />
    public int CompareTo(HlcTimestamp other) => Value.CompareTo(other.Value);

    /// <summary>Orders timestamps.</summary>
    public static bool operator <(HlcTimestamp left, HlcTimestamp right) => left.Value < right.Value;

    /// <summary>Orders timestamps.</summary>
    public static bool operator >(HlcTimestamp left, HlcTimestamp right) => left.Value > right.Value;

    /// <summary>Orders timestamps.</summary>
    public static bool operator <=(HlcTimestamp left, HlcTimestamp right) => left.Value <= right.Value;

    /// <summary>Orders timestamps.</summary>
    public static bool operator >=(HlcTimestamp left, HlcTimestamp right) => left.Value >= right.Value;

    /// <summary>ISO 8601 physical time and the counter, for example <c>2026-11-23T06:00:00.000Z/3</c>.</summary>
    public override string ToString() =>
        PhysicalTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) + "/" + Counter.ToString(CultureInfo.InvariantCulture);
}
