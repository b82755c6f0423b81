using Outpost.Core.Events;

namespace Outpost.Core.Log;

/// <summary>Reading a whole filtered stretch of a log, page by page.</summary>
public static class EventLogReading
{
    /// <summary>
    /// Every event after <paramref name="afterSeq"/> that <paramref name="filter"/> lets through, in log order, read in
    /// pages of <paramref name="pageSize"/> (for small topics such as an admin's actions, not for sales).
    /// </summary>
    public static async Task<List<StoredEvent>> ReadAllAsync(this IEventLog log, ReadFilter filter, long afterSeq = 0, int pageSize = 1000,
        CancellationToken cancellationToken = default)
    {
        var events = new List<StoredEvent>();
        await foreach (var e in log.EnumerateAsync(filter, afterSeq, pageSize, cancellationToken: cancellationToken))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>
    /// The next page after <paramref name="afterSeq"/>, stepping over damaged records: a record that fails its checksum is
    /// never served, and a reader that meets one would otherwise stop there for good (every sale after it held back
    /// from HQ, every read model stalled). The events before it are returned first; once it is next,
    /// <paramref name="stepOver"/> is told of it (to record or report it; it is called again for the same record if the
    /// reader comes back to it) and the page goes on after it.
    /// A page may therefore cover a damaged record without holding it: its <see cref="EventPage.ScannedTo"/> is past it.
    /// Damage SQLite itself reports (no record named) is thrown as before.
    /// </summary>
    public static async ValueTask<EventPage> ReadPastDamageAsync(this IEventLog log, long afterSeq, ReadFilter filter, int maxCount,
        Func<LogCorruptionException, long, ValueTask> stepOver, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(stepOver);
        for (var from = afterSeq; ;)
        {
            try
            {
                return await log.ReadAsync(from, filter, maxCount, cancellationToken);
            }
            catch (LogCorruptionException ex) when (ex.Seq is { } damaged && damaged > from)
            {
                // Counting reads no contents, so the intact events before the damaged one can be read on their own.
                var before = await log.CountAsync(from, damaged - 1, filter, cancellationToken);
                if (before > 0)
                {
                    return await log.ReadAsync(from, filter, (int)Math.Min(before, maxCount), cancellationToken);
                }

                await stepOver(ex, damaged);
                from = damaged;
            }
        }
    }

    /// <summary>
    /// The same events one by one, a page in memory at a time: for stretches too large to hold, such as a fleet's sales.
    /// With <paramref name="stepOver"/>, damaged records are stepped over as <see cref="ReadPastDamageAsync"/> does; without, the first one throws.
    /// </summary>
    public static async IAsyncEnumerable<StoredEvent> EnumerateAsync(this IEventLog log, ReadFilter filter, long afterSeq = 0, int pageSize = 1000,
        Func<LogCorruptionException, long, ValueTask>? stepOver = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (var after = afterSeq; ;)
        {
            var page = stepOver is null ? await log.ReadAsync(after, filter, pageSize, cancellationToken) : await log.ReadPastDamageAsync(after, filter, pageSize, stepOver, cancellationToken);
            foreach (var e in page.Events)
            {
                yield return e;
            }

            if (page.ScannedTo <= after)
            {
                yield break;
            }

            after = page.ScannedTo;
        }
    }
}
