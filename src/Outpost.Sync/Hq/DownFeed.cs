using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;

namespace Outpost.Sync.Hq;

/// <summary>
/// The recent down events of HQ's log, read once per commit for every store. Thousands of stores hold long polls;
/// when HQ commits a price change they all wake, and each would otherwise run its own query. Here one reader
/// follows the log's commits and reads what is new (the down topics, every scope) into a window of recent events,
/// and each store's request takes its scopes from that window in memory. A store further behind than the window
/// reads the log itself. Held polls wait for down events only (<see cref="WaitForDownAsync"/>): HQ commits store
/// uploads hundreds of times a second, and those do not wake 2,000 held polls.
/// </summary>
public sealed class DownFeed(IEventLog log, int window = DownFeed.DefaultWindow) : IAsyncDisposable, IDisposable
{
    /// <summary>How many recent down events the window keeps.</summary>
    public const int DefaultWindow = 10_000;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly string[] _topics = [.. log.Topics.InDirection(TopicDirection.Down).Select(p => p.Topic)];
    private readonly CommitSignal _downArrived = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _followerGate = new();
    private Task? _follower;
    private Window? _current;
    private long _lastDown;

    /// <summary>
    /// Completes once HQ's log holds a down event (any scope) after <paramref name="afterSeq"/>: a held poll waits
    /// on this, then reads its scopes again. Commits of other events do not wake it.
    /// </summary>
    public async ValueTask WaitForDownAsync(long afterSeq, CancellationToken cancellationToken)
    {
        EnsureFollowing();
        await _downArrived.WaitPastAsync(() => Volatile.Read(ref _lastDown), afterSeq, () => ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this), cancellationToken);
    }

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

            var found = events.Count > 0 && events[^1].Seq > Volatile.Read(ref _lastDown);
            current = new Window(events, floor, scanned);
            Volatile.Write(ref _current, current);
            if (found)
            {
                Volatile.Write(ref _lastDown, events[^1].Seq);
                _downArrived.Pulse();
            }

            return current;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        Task? follower;
        lock (_followerGate)
        {
            follower = _follower;
        }

        if (follower is not null)
        {
            await follower;
        }

        _downArrived.Pulse(); // waiters see the feed closed
        _closing.Dispose();
        _refresh.Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Starts, once, the reader that brings the window up to each commit of the log.</summary>
    private void EnsureFollowing()
    {
        lock (_followerGate)
        {
            ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
            _follower ??= Task.Run(FollowAsync);
        }
    }

    private async Task FollowAsync()
    {
        var token = _closing.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var scanned = (await CurrentAsync(token)).ScannedTo;
                await log.WaitForAppendAsync(scanned, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The log failed a read (it reports why itself); the held polls time out as usual meanwhile.
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Down events with Floor &lt; seq &lt;= ScannedTo, every one of them, in order.</summary>
    private sealed record Window(IReadOnlyList<StoredEvent> Events, long Floor, long ScannedTo);
}
