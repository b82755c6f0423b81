using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Hq;

/// <summary>
/// The recent down events of HQ's log, read once per commit for every store. Thousands of stores hold long polls;
/// when HQ commits a price change they all wake, and each would otherwise run its own query. Here one reader
/// follows the log's commits and reads what is new (the down topics, every scope) into a window of recent events,
/// and each store's request takes its scopes from that window in memory. A store further behind than the window
/// reads the log itself. Held polls wait for down events in their own scopes only (<see cref="WaitForDownAsync"/>):
/// HQ commits store uploads hundreds of times a second, and those wake no held poll; a price for one region wakes
/// that region's stores, one for a store wakes that store.
/// </summary>
public sealed class DownFeed(IEventLog log, int window = DownFeed.DefaultWindow) : IAsyncDisposable, IDisposable
{
    /// <summary>How many recent down events the window keeps.</summary>
    public const int DefaultWindow = 10_000;

    /// <summary>How far back (in log positions) a new window starts reading, so stores a little behind are served from memory.</summary>
    public const long LookBack = 100_000;

    /// <summary>How many reads of the log for stores behind the window run at once.</summary>
    public const int MaxBehindReads = 16;

    /// <summary>Pages of at most this many events share their encoding (<see cref="Encoded"/>).</summary>
    public const int MaxSharedEvents = 64;

    private readonly SemaphoreSlim _behind = new(MaxBehindReads, MaxBehindReads);
    private readonly EncodedPage?[] _encoded = new EncodedPage?[8];
    private readonly string[] _topics = [.. log.Topics.InDirection(TopicDirection.Down).Select(p => p.Topic)];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Scope, ScopeSignal> _signals = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private Task? _follower;
    private Window? _current;
    private Task<Window>? _refreshing;
    private int _nextEncoded;

    /// <summary>
    /// Completes once HQ's log holds a down event in one of <paramref name="scopes"/> after <paramref name="afterSeq"/>:
    /// a held poll waits on this, then reads its scopes again. Commits of other events, and down events for other
    /// scopes, do not wake it. The time from the feed finding the event to the poll running again is recorded as
    /// the <see cref="SyncMetrics.Wake"/> stage.
    /// </summary>
    public async ValueTask WaitForDownAsync(long afterSeq, IReadOnlyList<Scope> scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        EnsureFollowing();
        var signals = new ScopeSignal[scopes.Count];
        for (var i = 0; i < signals.Length; i++)
        {
            signals[i] = SignalOf(scopes[i]);
        }

        while (!Found(signals, afterSeq))
        {
            ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);

            // One waiter in each of its scopes' sets, then the positions again: an event announced before the waiter
            // was in a set is seen here, one announced after completes it. Not a task per scope joined with
            // WhenAny: thousands of polls share the fleet's scope, and each one's WhenAny left its continuation on
            // that scope's task, to be searched for and removed from a list of thousands when another scope woke it.
            var waiter = new Waiter();
            foreach (var signal in signals)
            {
                signal.Add(waiter);
            }

            try
            {
                if (Found(signals, afterSeq))
                {
                    return;
                }

                ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
                using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).TrySetCanceled(token), waiter))
                {
                    await waiter.Task;
                }
            }
            finally
            {
                foreach (var signal in signals)
                {
                    signal.Remove(waiter);
                }
            }
        }
    }

    /// <summary>Whether one of the scopes has a down event after <paramref name="afterSeq"/> (then the wake is timed).</summary>
    private static bool Found(ScopeSignal[] signals, long afterSeq)
    {
        foreach (var signal in signals)
        {
            if (Volatile.Read(ref signal.Last) > afterSeq)
            {
                SyncMetrics.Record(SyncMetrics.Wake, Volatile.Read(ref signal.FoundAt));
                return true;
            }
        }

        return false;
    }

    /// <summary>The down events for <paramref name="scopes"/> after <paramref name="afterSeq"/>, as <see cref="IEventLog.ReadAsync"/> would return them.</summary>
    public async ValueTask<EventPage> ReadAsync(long afterSeq, IReadOnlyList<Scope> scopes, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        var current = await CurrentAsync(cancellationToken);
        if (afterSeq > current.ScannedTo)
        {
            // Past everything this node has seen committed: a read of the log would find nothing either.
            return new EventPage([], afterSeq);
        }

        if (afterSeq < current.Floor)
        {
            // Behind the window: read from the log, a few stores at a time, so thousands of stores reconnecting at
            // once (after HQ restarts, or a region's link returns) queue here instead of exhausting the database's
            // connections.
            await _behind.WaitAsync(cancellationToken);
            try
            {
                return await log.ReadAsync(afterSeq, new ReadFilter { Topics = _topics, Scopes = scopes }, maxCount, cancellationToken);
            }
            finally
            {
                _behind.Release();
            }
        }

        // Each request starts where its cursor is in the window (binary search), not at the window's start.
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

    /// <summary>
    /// The frame body for a page read from the window (<see cref="DownStreamFrame.EncodeBody"/>), encoded once for
    /// every stream that sends the same events: after a change for the whole fleet, thousands of streams send the
    /// same one-event page. Pages are the same when they hold the same window events (compared by reference, so
    /// never two logs' events alike); pages of more than <see cref="MaxSharedEvents"/> (a store catching up) are
    /// encoded for their stream alone.
    /// </summary>
    public (byte[] Body, bool Compressed) Encoded(IReadOnlyList<StoredEvent> events, bool zstd)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count > MaxSharedEvents)
        {
            return DownStreamFrame.EncodeBody(events, zstd);
        }

        for (var i = 0; i < _encoded.Length; i++)
        {
            if (Volatile.Read(ref _encoded[i]) is { } page && page.Zstd == zstd && page.Holds(events))
            {
                return (page.Body, page.Compressed);
            }
        }

        var (body, compressed) = DownStreamFrame.EncodeBody(events, zstd);
        var slot = (uint)Interlocked.Increment(ref _nextEncoded) % (uint)_encoded.Length;
        Volatile.Write(ref _encoded[slot], new EncodedPage([.. events], zstd, body, compressed));
        return (body, compressed);
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

    /// <summary>
    /// The window, brought up to the log's head. One refresh runs at a time and every caller that needs it awaits that
    /// same refresh: after a change thousands of polls may ask at once, and queueing them one by one behind a lock
    /// cost each a turn on the thread pool (measured: p99 630 ms for a read that takes microseconds).
    /// </summary>
    private async ValueTask<Window> CurrentAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && current.ScannedTo >= log.Head)
        {
            return current;
        }

        Task<Window> refresh;
        lock (_gate)
        {
            if (_refreshing is null || _refreshing.IsCompleted)
            {
                _refreshing = RefreshAsync();
            }

            refresh = _refreshing;
        }

        return await refresh.WaitAsync(cancellationToken);
    }

    /// <summary>Reads the log's new down events into a new window (only the refresh in progress does).</summary>
    private async Task<Window> RefreshAsync()
    {
        await Task.Yield(); // the caller's lock is not held while this runs
        var token = _closing.Token;
        var current = _current;
        var head = log.Head;
        if (current is not null && current.ScannedTo >= head)
        {
            return current;
        }

        // A new window starts a stretch before the head: the stores past its start are served from here (after HQ
        // restarts, every store that was up to date), the others read the log.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var fresh = current is null;
        current ??= new Window([], Math.Max(0, head - LookBack), Math.Max(0, head - LookBack));
        List<StoredEvent>? added = null;
        var scanned = current.ScannedTo;
        var filter = new ReadFilter { Topics = _topics };
        while (scanned < head)
        {
            var page = await log.ReadAsync(scanned, filter, 1000, token);
            if (page.Events.Count > 0)
            {
                (added ??= []).AddRange(page.Events);
            }

            scanned = page.ScannedTo;
        }

        if (added is null)
        {
            // Nothing for the stores (store uploads, most commits): the same events, further scanned.
            current = current with { ScannedTo = scanned };
            Volatile.Write(ref _current, current);
            return current;
        }

        var events = new List<StoredEvent>(current.Events.Count + added.Count);
        events.AddRange(current.Events);
        var found = fresh ? events.Count + added.Count : events.Count;
        events.AddRange(added);
        var floor = current.Floor;
        if (events.Count > window)
        {
            var drop = events.Count - window;
            floor = events[drop - 1].Seq;
            events.RemoveRange(0, drop);
            found = Math.Max(0, found - drop);
        }

        current = new Window(events, floor, scanned);
        Volatile.Write(ref _current, current);
        if (found < events.Count)
        {
            SyncMetrics.Record(SyncMetrics.Feed, started);
            Announce(events, found, started);
        }

        return current;
    }

    /// <summary>
    /// The scope's signal. A new one starts at the scope's latest event in the window, read after it is added: an
    /// event the feed announced before the signal existed is in that window, one announced after finds the signal.
    /// </summary>
    private ScopeSignal SignalOf(Scope scope)
    {
        if (_signals.TryGetValue(scope, out var signal))
        {
            return signal;
        }

        var added = new ScopeSignal();
        signal = _signals.GetOrAdd(scope, added);
        if (ReferenceEquals(signal, added) && Volatile.Read(ref _current) is { } current)
        {
            for (var i = current.Events.Count - 1; i >= 0; i--)
            {
                if (current.Events[i].Scope == scope)
                {
                    signal.RaiseTo(current.Events[i].Seq);
                    break;
                }
            }
        }

        return signal;
    }

    /// <summary>Wakes the polls waiting on the scopes of the new events (from index <paramref name="from"/>), each scope once.</summary>
    private void Announce(List<StoredEvent> events, int from, long foundAt)
    {
        var woken = new Dictionary<Scope, long>();
        for (var i = from; i < events.Count; i++)
        {
            woken[events[i].Scope] = events[i].Seq;
        }

        foreach (var (scope, last) in woken)
        {
            // A scope nobody has waited on yet has no signal: its first poll reads the window before waiting.
            if (_signals.TryGetValue(scope, out var signal))
            {
                Volatile.Write(ref signal.FoundAt, foundAt);
                signal.RaiseTo(last);
                signal.Wake();
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        Task? follower;
        lock (_gate)
        {
            follower = _follower;
        }

        if (follower is not null)
        {
            await follower;
        }

        foreach (var signal in _signals.Values)
        {
            signal.Wake(); // waiters see the feed closed
        }

        _closing.Dispose();
        _behind.Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Starts, once, the reader that brings the window up to each commit of the log.</summary>
    private void EnsureFollowing()
    {
        lock (_gate)
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

    /// <summary>
    /// The polls waiting on one scope: the sequence of the latest down event found for it, when the feed found it,
    /// and the waiters to complete when the feed finds the next.
    /// </summary>
    private sealed class ScopeSignal
    {
        public long Last;
        public long FoundAt;

        private readonly Lock _gate = new();
        private HashSet<Waiter> _waiters = [];

        /// <summary>Moves <see cref="Last"/> up to <paramref name="seq"/>, never down (the feed and a new poll may both set it).</summary>
        public void RaiseTo(long seq)
        {
            long last;
            while ((last = Volatile.Read(ref Last)) < seq && Interlocked.CompareExchange(ref Last, seq, last) != last)
            {
            }
        }

        public void Add(Waiter waiter)
        {
            lock (_gate)
            {
                _waiters.Add(waiter);
            }
        }

        /// <summary>Takes a waiter out (it was woken through another scope, or stopped waiting): a hash set, so thousands cost no search.</summary>
        public void Remove(Waiter waiter)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }
        }

        /// <summary>Completes every waiter (after <see cref="RaiseTo"/>); their polls run on the thread pool, not here.</summary>
        public void Wake()
        {
            HashSet<Waiter> woken;
            lock (_gate)
            {
                if (_waiters.Count == 0)
                {
                    return;
                }

                woken = _waiters;
                _waiters = [];
            }

            foreach (var waiter in woken)
            {
                waiter.TrySetResult();
            }
        }
    }

    /// <summary>One waiting poll, in the sets of each of its scopes.</summary>
    private sealed class Waiter() : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A page's encoded frame body, and the window events it holds.</summary>
    private sealed record EncodedPage(StoredEvent[] Events, bool Zstd, byte[] Body, bool Compressed)
    {
        public bool Holds(IReadOnlyList<StoredEvent> events)
        {
            if (events.Count != Events.Length)
            {
                return false;
            }

            for (var i = 0; i < Events.Length; i++)
            {
                if (!ReferenceEquals(events[i], Events[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Down events with Floor &lt; seq &lt;= ScannedTo, every one of them, in order.</summary>
    private sealed record Window(IReadOnlyList<StoredEvent> Events, long Floor, long ScannedTo);
}
