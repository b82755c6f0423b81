using System.Collections.Concurrent;

namespace Outpost.Core.Log;

/// <summary>
/// The damaged records a log's reads have met since it opened, each counted once: readers step over a damaged record
/// (<see cref="EventLogReading.ReadPastDamageAsync"/>), and each reader, or the same one after a retry, meets it again.
/// Damage SQLite reports without naming a record counts each time it is met.
/// </summary>
internal sealed class CorruptionLedger
{
    private readonly ConcurrentDictionary<long, byte> _records = new();
    private long _unnamed;

    /// <summary>Damaged records met so far (<see cref="IEventLog.CorruptRecordsSeen"/>).</summary>
    public long Seen => _records.Count + Interlocked.Read(ref _unnamed);

    /// <summary>Counts the damage; true when it is news (a record met for the first time, or unnamed damage): log it and count it in the metric then.</summary>
    public bool Record(LogCorruptionException damage)
    {
        ArgumentNullException.ThrowIfNull(damage);
        if (damage.Seq is { } seq)
        {
            return _records.TryAdd(seq, 0);
        }

        Interlocked.Increment(ref _unnamed);
        return true;
    }
}
