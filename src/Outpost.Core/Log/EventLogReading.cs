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
        await foreach (var e in log.EnumerateAsync(filter, afterSeq, pageSize, cancellationToken))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>The same events one by one, a page in memory at a time: for stretches too large to hold, such as a fleet's sales.</summary>
    public static async IAsyncEnumerable<StoredEvent> EnumerateAsync(this IEventLog log, ReadFilter filter, long afterSeq = 0, int pageSize = 1000,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (var after = afterSeq; ;)
        {
            var page = await log.ReadAsync(after, filter, pageSize, cancellationToken);
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
