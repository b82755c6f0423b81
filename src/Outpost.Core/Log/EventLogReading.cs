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
        ArgumentNullException.ThrowIfNull(log);
        var events = new List<StoredEvent>();
        for (var after = afterSeq; ;)
        {
            var page = await log.ReadAsync(after, filter, pageSize, cancellationToken);
            events.AddRange(page.Events);
            if (page.ScannedTo <= after)
            {
                return events;
            }

            after = page.ScannedTo;
        }
    }
}
