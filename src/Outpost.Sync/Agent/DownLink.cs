using Microsoft.Extensions.Logging;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Sync.Agent;

/// <summary>
/// Follows HQ's feed for this store: asks for the events after its cursor (HQ holds the request until it
/// has some), appends them and moves the cursor <c>down:hq</c> in the same transaction, so a crash never
/// loses or repeats one. Events of types this store does not know are stored all the same; its consumers
/// park what they cannot read.
/// </summary>
internal sealed partial class DownLink(IEventLog log, SyncClient client, ConnectivityMonitor monitor, SyncClientOptions options, TimeProvider time, ILogger logger)
{
    public const string Cursor = "down:hq";
    private readonly Backoff _backoff = new(options.BackoffBase, Random.Shared, "Down", logger, time);
    private bool _proven;

    /// <summary>The cursor as the last round left it (null until the first round reads it from the log).</summary>
    private long? _cursor;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cursor = await log.GetCursorAsync(Cursor, cancellationToken) ?? 0;
        var streaming = options.StreamDown;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (streaming)
                {
                    // One request, a frame per change (the first at once: it proves the link); when HQ ends the
                    // stream, connect again at once.
                    await foreach (var frame in client.StreamDownAsync(cursor, options.LongPoll, cancellationToken))
                    {
                        cursor = await TakeAsync(frame, cursor, cancellationToken);
                    }

                    continue;
                }

                // After a start or a failure, ask without waiting: the answer proves the link at once.
                var page = await client.GetDownAsync(cursor, _backoff.Failures == 0 && _proven ? options.LongPoll : TimeSpan.Zero, cancellationToken);
                _proven = true;
                cursor = await TakeAsync(page, cursor, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (DownStreamUnsupportedException ex)
            {
                Log.LongPolling(logger, ex.Message);
                streaming = false;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var refused = ex is SyncRefusedException;
                var reason = ConnectivityMonitor.Describe(ex);
                monitor.Report(SyncLink.Down, reason);
                var delay = _backoff.Next(refused ? options.RefusedBackoffCap : options.BackoffCap, ex, reason);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }

    /// <summary>
    /// One round in place of <see cref="RunAsync"/>'s loop (<see cref="ReplicationRounds"/>): takes every page HQ has for
    /// the store now, asking without waiting, and returns once it is caught up (10,000 pages at most). A failure is
    /// reported and thrown; the cursor stays where the last page taken left it.
    /// </summary>
    public async Task RoundAsync(CancellationToken cancellationToken)
    {
        var cursor = _cursor ??= await log.GetCursorAsync(Cursor, cancellationToken) ?? 0;
        try
        {
            for (var pages = 0; pages < 10_000; pages++)
            {
                var page = await client.GetDownAsync(cursor, TimeSpan.Zero, cancellationToken);
                _cursor = cursor = await TakeAsync(page, cursor, cancellationToken);
                if (page.Events.Count == 0 || page.Next >= page.Head)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            monitor.Report(SyncLink.Down, ConnectivityMonitor.Describe(ex));
            throw;
        }
    }

    /// <summary>Stores a page and moves the cursor with it (in one transaction); returns the new cursor.</summary>
    private async Task<long> TakeAsync(DownPage page, long cursor, CancellationToken cancellationToken)
    {
        if (page.Events.Count > 0)
        {
            await AppendAsync(page, cancellationToken);
        }
        else if (page.Next != cursor)
        {
            await log.SetCursorAsync(Cursor, CursorKind.Remote, page.Next, cancellationToken);
        }

        _backoff.Reset();
        monitor.Report(SyncLink.Down, null, downLag: Math.Max(0, page.Head - page.Next));
        return page.Next;
    }

    private async Task AppendAsync(DownPage page, CancellationToken cancellationToken)
    {
        var update = new CursorUpdate(Cursor, CursorKind.Remote, page.Next);
        try
        {
            await log.AppendBatchAsync(page.Events, update, cancellationToken);
        }
        catch (InvalidEventException)
        {
            // One event this store cannot hold must not stall the feed: keep the rest, log the refused one.
            var valid = new List<NewEvent>(page.Events.Count);
            foreach (var e in page.Events)
            {
                try
                {
                    EventValidator.Validate(e);
                    valid.Add(e);
                }
                catch (InvalidEventException ex)
                {
                    Log.Refused(logger, ex, e.Origin?.Node.Value ?? "?", e.Origin?.Seq ?? 0);
                }
            }

            await log.AppendBatchAsync(valid, update, cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Error, "A down event ({Origin}, {OriginSeq}) could not be stored here and was skipped.")]
        public static partial void Refused(ILogger logger, Exception exception, string origin, long originSeq);

        [LoggerMessage(3, LogLevel.Warning, "{Why}")]
        public static partial void LongPolling(ILogger logger, string why);
    }
}
