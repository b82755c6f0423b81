using Microsoft.Extensions.Logging;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Agent;

/// <summary>
/// Sends the store's up-topic events to HQ. One lane per priority: a batch is filled from the most urgent
/// lane first (sales and orders before stock, stock before telemetry). Several batches are in flight; a
/// lane's checkpoint (cursor <c>up:hq:&lt;priority&gt;</c>, a replication cursor) moves over the batches HQ has
/// acknowledged in order. After a failure everything unacknowledged is sent again; HQ drops what it has.
/// </summary>
internal sealed partial class UpLink(IEventLog log, SyncClient client, ConnectivityMonitor monitor, SyncClientOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>The size of the batch that probes a link after a failure.</summary>
    private const int ProbeEvents = 100;

    /// <summary>The local event that records a damaged record the link stepped over (topic <c>connectivity</c>, kept for good).</summary>
    internal const string NotSentType = ReplicationAgent.RecordNotSent;

    private static readonly ReadFilter NotSentFilter = new() { Topics = [ReplicationAgent.ConnectivityTopic], Types = [NotSentType] };
    private readonly SortedSet<long> _notSent = [];
    private readonly Backoff _backoff = new(options.BackoffBase, Random.Shared, "Up", logger, time);
    private readonly List<Flight> _flights = [];
    private long _backlog;
    private long _countedTo;
    private long _countedAt;
    private Task _persisting = Task.CompletedTask;
    private List<Lane> _lanes = [];
    private long? _lastSend;

    /// <summary>When the last batch with events in it was sent (the heartbeat's empty ones do not count).</summary>
    private long? _lastBatch;

    private bool _loaded;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // After a failure the link is probed with one small batch, not several full ones: a store that is offline
                // for hours retries every few seconds, and re-reading and compressing megabytes each time would take
                // CPU from the tills. The first acknowledgement restores full speed.
                var window = _backoff.Failures > 0 ? 1 : options.MaxInFlight;
                while (_flights.Count < window && await NextBatchAsync(cancellationToken) is { } flight)
                {
                    _flights.Add(flight);
                }

                if (_flights.Count == 0)
                {
                    await IdleAsync(cancellationToken);
                    continue;
                }

                await Task.WhenAny(_flights.Select(f => f.Send));
                await HarvestAsync(cancellationToken);
                _backoff.Reset();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                await RecoverAsync(ex, cancellationToken);
            }
        }
    }

    /// <summary>
    /// One round in place of <see cref="RunAsync"/>'s loop, for a caller that runs the link on a schedule of its own
    /// (<see cref="ReplicationRounds"/>): sends everything waiting and returns once HQ has acknowledged it and the
    /// checkpoints are written. No heartbeat, no backoff: the caller's schedule is both. A failure is thrown once the
    /// batches in flight have settled; what HQ acknowledged in order is kept, the rest goes again in the next round.
    /// </summary>
    public async Task RoundAsync(CancellationToken cancellationToken)
    {
        if (!_loaded)
        {
            await LoadAsync(cancellationToken);
        }

        try
        {
            while (true)
            {
                while (_flights.Count < options.MaxInFlight && await NextBatchAsync(cancellationToken) is { } flight)
                {
                    _flights.Add(flight);
                }

                if (_flights.Count == 0)
                {
                    break;
                }

                await Task.WhenAny(_flights.Select(f => f.Send));
                await HarvestAsync(cancellationToken);
            }

            await _persisting;
            await PersistAsync(cancellationToken);
            monitor.Report(SyncLink.Up, null, await BacklogAsync(cancellationToken));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            await SettleAsync(ex, cancellationToken);
            throw;
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        _lanes = await LoadLanesAsync(cancellationToken);
        await LoadNotSentAsync(cancellationToken);
        await BacklogAsync(cancellationToken);
        _loaded = true;
    }

    private async Task<List<Lane>> LoadLanesAsync(CancellationToken cancellationToken)
    {
        var lanes = new List<Lane>();
        foreach (var group in log.Topics.InDirection(TopicDirection.Up).GroupBy(p => p.Priority).OrderBy(g => g.Key))
        {
            var cursor = "up:hq:" + group.Key.ToString().ToLowerInvariant();
            var acked = await log.GetCursorAsync(cursor, cancellationToken);
            if (acked is null)
            {
                // Registered at once, so retention keeps what has not gone up yet.
                await log.SetCursorAsync(cursor, CursorKind.Replication, 0, cancellationToken);
            }

            lanes.Add(new Lane(cursor, ReadFilter.ForTopics([.. group.Select(p => p.Topic)])) { Acked = acked ?? 0, Position = acked ?? 0 });
        }

        return lanes;
    }

    private async Task<Flight?> NextBatchAsync(CancellationToken cancellationToken)
    {
        var waiting = _lanes.Count == 0 ? 0 : log.Head - _lanes.Min(l => l.Position);
        var small = waiting < options.MaxBatchEvents / 10;
        // Intervals on the monotonic clock, never the wall clock: a store whose clock is set back by hours must not
        // wait hours (before, with gathering off, such a store sent nothing until its clock caught up again).
        var gather = _lastBatch is { } last ? options.Gather - time.GetElapsedTime(last) : TimeSpan.Zero;
        if (small && waiting > 0 && _backoff.Failures == 0 && gather > TimeSpan.Zero)
        {
            // A request went a moment ago and little is waiting: what the store records until the interval is up goes
            // with it in one request (SyncClientOptions.Gather). A backlog fills batches without waiting.
            await Task.Delay(gather, time, cancellationToken);
        }
        else if (_flights.Count > 0 && options.Linger > TimeSpan.Zero && small)
        {
            // Something is on its way already and little is waiting: let a few more events gather rather
            // than send a tiny batch.
            await Task.Delay(options.Linger, time, cancellationToken);
        }

        var events = new List<StoredEvent>();
        var previous = new List<long>();
        var through = new Dictionary<Lane, (long Seq, long OriginSeq)>();
        var bytes = 0;
        var limit = _backoff.Failures > 0 ? Math.Min(ProbeEvents, options.MaxBatchEvents) : options.MaxBatchEvents;
        foreach (var lane in _lanes)
        {
            var room = limit - events.Count;
            if (room <= 0 || bytes >= options.MaxBatchBytes)
            {
                break;
            }

            // Strict priority at HQ: a lane goes only when every more urgent lane has nothing unacknowledged,
            // so a telemetry batch can never land before a stock batch sent ahead of it.
            if (_lanes.TakeWhile(l => l != lane).Any(l => l.Position > l.Acked))
            {
                break;
            }

            var page = await ReadLaneAsync(lane, room, cancellationToken);
            var position = page.Events.Count < room ? page.ScannedTo : lane.Position;
            foreach (var e in page.Events)
            {
                if (bytes > 0 && bytes + e.Payload.Length > options.MaxBatchBytes)
                {
                    position = e.Seq - 1;
                    break;
                }

                // Only this store's own events go up; HQ refuses anything else, which would stall the lane.
                if (e.Origin.Node == log.NodeId)
                {
                    events.Add(e);
                    previous.Add(lane.LastOriginSeq);
                    lane.LastOriginSeq = e.Origin.Seq;
                    bytes += e.Payload.Length;
                }

                position = Math.Max(position, e.Seq);
            }

            if (position > lane.Position)
            {
                through[lane] = (position, lane.LastOriginSeq);
                lane.Position = position;
            }
        }

        if (events.Count == 0 && through.Count == 0)
        {
            return null;
        }

        _lastSend = _lastBatch = time.GetTimestamp();
        // HQ's fleet view shows what is left once this batch is in, so the last batch of a catch-up reports none left.
        var left = Math.Max(0, _backlog - _flights.Sum(f => f.Events) - events.Count);
        var send = events.Count == 0 ? Task.FromResult(new UpAck(0, 0, 0, 0)) : client.SendUpAsync(events, previous, cancellationToken, left);
        return new Flight(send, through, events.Count);
    }

    /// <summary>
    /// The lane's next page. A damaged record (it fails its checksum; the log never serves it) is never sent, and does not
    /// hold back every sale after it: the events before it go first, then the lane steps over it. Each one stepped over
    /// is recorded durably (a local event) and told to HQ with every request, until the store's log is restored.
    /// </summary>
    private ValueTask<EventPage> ReadLaneAsync(Lane lane, int room, CancellationToken cancellationToken) =>
        log.ReadPastDamageAsync(lane.Position, lane.Filter, room, (ex, damaged) => StepOverAsync(damaged, ex.Message, cancellationToken), cancellationToken);

    private async ValueTask StepOverAsync(long damaged, string problem, CancellationToken cancellationToken)
    {
        if (_notSent.Contains(damaged))
        {
            return;
        }

        Log.SteppedOver(logger, damaged, problem);
        await log.AppendAsync(new NewEvent
        {
            Topic = ReplicationAgent.ConnectivityTopic,
            Type = NotSentType,
            Key = "not-sent:" + damaged.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Scope = Scope.Store(options.StoreId),
            Payload = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new RecordNotSent(damaged, problem), SyncJsonContext.Default.RecordNotSent),
        }, cancellationToken);
        _notSent.Add(damaged);
        monitor.ReportNotSent(_notSent.Count, _notSent.Max);
    }

    private async Task LoadNotSentAsync(CancellationToken cancellationToken)
    {
        foreach (var e in await log.ReadAllAsync(NotSentFilter, cancellationToken: cancellationToken))
        {
            if (System.Text.Json.JsonSerializer.Deserialize(e.Payload.Span, SyncJsonContext.Default.RecordNotSent) is { } record)
            {
                _notSent.Add(record.Seq);
            }
        }

        if (_notSent.Count > 0)
        {
            monitor.ReportNotSent(_notSent.Count, _notSent.Max);
        }
    }

    private async Task HarvestAsync(CancellationToken cancellationToken)
    {
        var moved = false;
        while (_flights.Count > 0 && _flights[0].Send.IsCompleted)
        {
            var flight = _flights[0];
            await flight.Send; // throws if it failed: RecoverAsync takes over
            _flights.RemoveAt(0);
            _backlog = Math.Max(0, _backlog - flight.Events);
            foreach (var (lane, through) in flight.Through)
            {
                lane.Acknowledge(through);
                moved = true;
            }
        }

        if (_flights.Any(f => f.Send.IsFaulted))
        {
            await _flights.First(f => f.Send.IsFaulted).Send;
        }

        if (moved)
        {
            // Checkpoints are written behind the sending, one write at a time: a crash costs at most the
            // last few batches sent again, which HQ drops as duplicates.
            if (_persisting.IsCompleted)
            {
                await _persisting;
                _persisting = PersistAsync(cancellationToken);
            }

            // While draining, the last exact count less what HQ has acknowledged since; idle and outage paths
            // count exactly (local events, which never go up, are never counted).
            monitor.Report(SyncLink.Up, null, _backlog);
        }
    }

    private async Task PersistAsync(CancellationToken cancellationToken)
    {
        foreach (var lane in _lanes.Where(l => l.Acked > l.Persisted))
        {
            var acked = lane.Acked;
            await log.SetCursorAsync(lane.Cursor, CursorKind.Replication, acked, cancellationToken);
            lane.Persisted = acked;
        }
    }

    private async Task IdleAsync(CancellationToken cancellationToken)
    {
        await _persisting;
        if (_lanes.Any(l => l.Acked > l.Persisted))
        {
            _persisting = PersistAsync(cancellationToken);
            await _persisting;
        }

        monitor.Report(SyncLink.Up, _backoff.Failures == 0 ? null : monitor.Current.LastError, await BacklogAsync(cancellationToken));
        if (_lastSend is not { } sent || time.GetElapsedTime(sent) >= options.Heartbeat)
        {
            // An empty batch: proves the link works (or not) while the store has nothing to send.
            _lastSend = time.GetTimestamp();
            await client.SendUpAsync([], null, cancellationToken);
            _backoff.Reset();
            monitor.Report(SyncLink.Up, null);
            return;
        }

        using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wake.CancelAfter(options.Heartbeat);
        try
        {
            await log.WaitForAppendAsync(_lanes.Count == 0 ? log.Head : _lanes.Min(l => l.Position), wake.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RecoverAsync(Exception failure, CancellationToken cancellationToken)
    {
        var reason = await SettleAsync(failure, cancellationToken);
        var refused = failure is SyncRefusedException;
        var delay = _backoff.Next(refused ? options.RefusedBackoffCap : options.BackoffCap, failure, reason);
        await Task.Delay(delay, time, cancellationToken);
    }

    /// <summary>After a failure: lets every batch in flight settle, keeps what HQ acknowledged in order, rewinds the lanes to send the rest again, and reports the failure; returns it in words.</summary>
    private async Task<string> SettleAsync(Exception failure, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_flights.Select(f => f.Send));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
        }

        while (_flights.Count > 0 && _flights[0].Send.IsCompletedSuccessfully)
        {
            foreach (var (lane, through) in _flights[0].Through)
            {
                lane.Acknowledge(through);
            }

            _flights.RemoveAt(0);
        }

        _flights.Clear();
        foreach (var lane in _lanes)
        {
            lane.Position = lane.Acked;
            lane.LastOriginSeq = lane.AckedOriginSeq;
        }

        var reason = ConnectivityMonitor.Describe(failure);
        monitor.Report(SyncLink.Up, reason, await BacklogAsync(cancellationToken));
        return reason;
    }

    /// <summary>
    /// The events waiting to go up. Counting a long backlog scans it, and an offline store asks at every retry, so
    /// while nothing is acknowledged only what was appended since the last count is counted and added; a full
    /// count runs once acknowledgements move past it, and at least once a minute.
    /// </summary>
    private async Task<long> BacklogAsync(CancellationToken cancellationToken)
    {
        // Each count names the range it covers (through the head read first), so an event appended while counting
        // is counted once: now, or by the next count.
        var now = time.GetTimestamp();
        var head = log.Head;
        var full = _countedTo == 0 || _lanes.Any(l => l.Acked > _countedTo) || time.GetElapsedTime(_countedAt, now) >= TimeSpan.FromMinutes(1);
        long counted = 0;
        foreach (var lane in _lanes)
        {
            counted += await log.CountAsync(full ? lane.Acked : Math.Max(_countedTo, lane.Acked), head, lane.Filter, cancellationToken);
        }

        _backlog = full ? counted : _backlog + counted;
        if (full)
        {
            _countedAt = now;
        }

        _countedTo = head;
        return _backlog;
    }

    private sealed class Lane(string cursor, ReadFilter filter)
    {
        public string Cursor { get; } = cursor;

        public ReadFilter Filter { get; } = filter;

        public long Acked { get; set; }

        public long Persisted { get; set; }

        public long Position { get; set; }

        /// <summary>Origin seq of the last event put in a batch: the next one's predecessor (0: unknown after a restart).</summary>
        public long LastOriginSeq { get; set; }

        public long AckedOriginSeq { get; private set; }

        public void Acknowledge((long Seq, long OriginSeq) through)
        {
            if (through.Seq > Acked)
            {
                Acked = through.Seq;
                AckedOriginSeq = Math.Max(AckedOriginSeq, through.OriginSeq);
            }
        }
    }

    private sealed record Flight(Task<UpAck> Send, Dictionary<Lane, (long Seq, long OriginSeq)> Through, int Events);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Event {Seq} of the store's log is damaged and is not sent to HQ; the up link goes on after it. {Problem}")]
        public static partial void SteppedOver(ILogger logger, long seq, string problem);
    }
}
