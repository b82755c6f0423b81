using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;

namespace Outpost.Sync.Hq;

/// <summary>
/// The recent down events of HQ's log, read once per commit for every store. Thousands of stores hold long polls;
/// when HQ commits a price change they all wake, and each would otherwise run its own query. Here one of them
/// reads what is new (the down topics, every scope) into a window of recent events, and each store's request
/// takes its scopes from that window in memory. A store further behind than the window reads the log itself.
/// </summary>
public sealed class DownFeed(IEventLog log, int window = DownFeed.DefaultWindow) : IDisposable
{
    /// <summary>How many recent down events the window keeps.</summary>
    public const int DefaultWindow = 10_000;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly string[] _topics = [.. log.Topics.InDirection(TopicDirection.Down).Select(p => p.Topic)];
    private Window? _current;

    /// <summary>The down events for <paramref name="scopes"/> after <paramref name="afterSeq"/>, as <see cref="IEventLog.ReadAsync"/> would return them.</summary>
    public async ValueTask<EventPage> ReadAsync(long afterSeq, IReadOnlyList<Scope> scopes, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        var current = await CurrentAsync(cancellationToken);
        if (afterSeq < current.Floor || afterSeq > current.ScannedTo)
        {
            return await log.ReadAsync(afterSeq, new ReadFilter { Topics = _topics, Scopes = scopes }, maxCount, cancellationToken);
        }

        // Every held poll wakes at every commit (store uploads included), so each starts where its cursor is in the
        // window, not at the window's start.
        var events = new List<StoredEvent>();
        for (var i = FirstAfter(current.Events, afterSeq); i < current.Events.Count; i++)
        {
            var e = current.Events[i];
            if (scopes.Contains(e.Scope))
            {
                events.Add(e);
                if (events.Count == maxCount)
                {
                    return new EventPage(events, e.Seq);
                }
            }
        }

        return new EventPage(events, current.ScannedTo);
    }

    /// <summary>The index of the first event after <paramref name="afterSeq"/> in events ordered by sequence.</summary>
    private static int FirstAfter(IReadOnlyList<StoredEvent> events, long afterSeq)
    {
        var (low, high) = (0, events.Count);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (events[middle].Seq > afterSeq)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }

    /// <summary>The window, brought up to the log's head by whichever caller gets there first.</summary>
    private async ValueTask<Window> CurrentAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && current.ScannedTo >= log.Head)
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            current = _current;
            var head = log.Head;
            if (current is not null && current.ScannedTo >= head)
            {
                return current;
            }

            // A new window starts at the head: the stores already past it are served from here, the others read the log.
            current ??= new Window([], head, head);
            var events = new List<StoredEvent>(current.Events);
            var scanned = current.ScannedTo;
            var filter = new ReadFilter { Topics = _topics };
            while (scanned < head)
            {
                var page = await log.ReadAsync(scanned, filter, 1000, cancellationToken);
                events.AddRange(page.Events);
                scanned = page.ScannedTo;
            }

            var floor = current.Floor;
            if (events.Count > window)
            {
                floor = events[events.Count - window - 1].Seq;
                events.RemoveRange(0, events.Count - window);
            }

            current = new Window(events, floor, scanned);
            Volatile.Write(ref _current, current);
            return current;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _refresh.Dispose();

    /// <summary>Down events with Floor &lt; seq &lt;= ScannedTo, every one of them, in order.</summary>
    private sealed record Window(IReadOnlyList<StoredEvent> Events, long Floor, long ScannedTo);
}
