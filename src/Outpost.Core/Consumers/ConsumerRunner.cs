using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.Core.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Core.Consumers;

/// <summary>
/// Feeds a durable consumer from its checkpoint: a page of events per transaction; when a page fails,
/// the events one by one with retries; an event that still fails after
/// <see cref="ConsumerOptions.MaxAttempts"/> is parked in dead letters with its error, so one bad event
/// never blocks the log.
/// </summary>
public sealed partial class ConsumerRunner
{
    private const long SkipPersistInterval = 10_000;
    private static readonly TimeSpan IdlePersistDelay = TimeSpan.FromSeconds(1);
    private readonly IEventLog _log;
    private readonly IEventConsumer _consumer;
    private readonly ConsumerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _cursor;
    private readonly string _spanName;
    /// <summary>
    /// Read models commit without an fsync of their own: they are rebuilt from the log, and a checkpoint commits
    /// with its model in one transaction, so a power cut can only take both back together and the events are
    /// applied again, exactly once. The log's own appends stay as durable as configured.
    /// </summary>
    private const LogDurability ReadModelDurability = LogDurability.Normal;

    private readonly CommitSignal _moved = new();
    private long _position = -1;
    private long _persisted;
    private long _parked;
    private string? _lastError;

    /// <summary>Creates a runner.</summary>
    public ConsumerRunner(IEventLog log, IEventConsumer consumer, ConsumerOptions? options = null, TimeProvider? time = null, ILogger<ConsumerRunner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(consumer);
        _log = log;
        _consumer = consumer;
        _options = options ?? new ConsumerOptions();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _cursor = CursorName(consumer.Name);
        _spanName = $"outpost.project {consumer.Name}";
    }

    /// <summary>The cursor name of a consumer's checkpoint.</summary>
    public static string CursorName(string consumer) => "consumer:" + consumer;

    /// <summary>The consumer's current health.</summary>
    public ConsumerStatus Status => new(_consumer.Name, Math.Max(0, Volatile.Read(ref _position)), Interlocked.Read(ref _parked), Volatile.Read(ref _lastError));

    /// <summary>The sequence up to which every event was handled (or skipped by the filter); -1 before the start.</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>Completes once the consumer has handled every event up to <paramref name="seq"/> (read-your-writes for its read model).</summary>
    public async Task WaitForPositionAsync(long seq, CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _position) < seq)
        {
            var moved = _moved.Next;
            if (Volatile.Read(ref _position) >= seq)
            {
                return;
            }

            await moved.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Handles events until cancelled, waiting for new ones without polling.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await StepAsync(cancellationToken) == 0)
                {
                    await IdleAsync(cancellationToken);
                }

                Volatile.Write(ref _lastError, null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (LeaseLostException)
            {
                // Another node runs this consumer now: forget the position, so a later run starts from the checkpoint.
                Volatile.Write(ref _position, -1);
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The log itself failed (a corrupt record, a full disk): report it and try again later.
                Volatile.Write(ref _lastError, ex.Message);
                Log.ReadFailed(_logger, ex, _consumer.Name, _position);
                await DelayAsync(_options.FaultDelay, cancellationToken);
            }
        }
    }

    /// <summary>Handles every event committed before the call; returns how many were handled or parked.</summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken = default)
    {
        var target = _log.Head;
        long handled = 0;
        await EnsureStartedAsync(cancellationToken);
        while (_position < target)
        {
            handled += await StepAsync(cancellationToken);
        }

        return handled;
    }

    private async ValueTask EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_position >= 0)
        {
            return;
        }

        var checkpoint = await _log.GetCursorAsync(_cursor, cancellationToken);
        if (checkpoint is null)
        {
            // Register at once, so retention keeps what this consumer has not read yet.
            await _log.SetCursorAsync(_cursor, CursorKind.Consumer, 0, cancellationToken);
        }

        _persisted = checkpoint ?? 0;
        Volatile.Write(ref _position, _persisted);
        _moved.Pulse();
    }

    /// <summary>One page; returns how many events it handled or parked.</summary>
    private async Task<int> StepAsync(CancellationToken cancellationToken)
    {
        await EnsureStartedAsync(cancellationToken);
        var page = await _log.ReadPastDamageAsync(_position, _consumer.Filter, _options.BatchSize, (ex, seq) => ParkDamagedAsync(ex, seq, cancellationToken), cancellationToken);
        if (page.Events.Count == 0)
        {
            if (page.ScannedTo - _persisted >= SkipPersistInterval)
            {
                await PersistAsync(page.ScannedTo, cancellationToken);
                _persisted = page.ScannedTo;
            }

            Volatile.Write(ref _position, page.ScannedTo);
            _moved.Pulse();
            return 0;
        }

        try
        {
            await using var tx = await BeginAsync(cancellationToken);
            foreach (var e in page.Events)
            {
                // In the trace the event carries: a sale's trace shows each read model it reached, here or at HQ.
                using var span = OutpostTracing.StartForEvent(_spanName, ActivityKind.Consumer, e.TraceParent);
                span?.SetTag("outpost.seq", e.Seq);
                await _consumer.HandleAsync(e, tx, cancellationToken);
            }

            await tx.SetCursorAsync(_cursor, CursorKind.Consumer, page.ScannedTo, cancellationToken);
            await CommitAsync(tx, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException and not LeaseLostException)
        {
            // Something in the page failed and nothing of it was kept: go event by event to find it.
            Log.PageFailed(_logger, ex, _consumer.Name, page.Events[0].Seq, page.Events[^1].Seq);
            foreach (var e in page.Events)
            {
                await HandleOneAsync(e, cancellationToken);
            }

            await PersistAsync(page.ScannedTo, cancellationToken);
        }

        _persisted = page.ScannedTo;
        Volatile.Write(ref _position, page.ScannedTo);
        _moved.Pulse();
        return page.Events.Count;
    }

    private async Task HandleOneAsync(StoredEvent e, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var tx = await BeginAsync(cancellationToken);
                await _consumer.HandleAsync(e, tx, cancellationToken);
                await tx.SetCursorAsync(_cursor, CursorKind.Consumer, e.Seq, cancellationToken);
                await CommitAsync(tx, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException and not LeaseLostException)
            {
                if (LogFullException.Is(ex))
                {
                    // The disk is full: not the event's fault, so not an attempt, and never a reason to park it
                    // (a full disk for a minute would park every event it met). Wait for room, as the writers do.
                    Log.AttemptFailed(_logger, ex, _consumer.Name, e.Seq, attempt);
                    attempt--;
                    await DelayAsync(TimeSpan.FromTicks(Math.Max(_options.RetryDelay.Ticks, TimeSpan.FromMilliseconds(100).Ticks)), cancellationToken);
                    continue;
                }

                if (attempt < _options.MaxAttempts)
                {
                    Log.AttemptFailed(_logger, ex, _consumer.Name, e.Seq, attempt);
                    await DelayAsync(_options.RetryDelay * Math.Pow(2, attempt - 1), cancellationToken);
                    continue;
                }

                await using var park = await BeginAsync(cancellationToken);
                await park.ParkAsync(new DeadLetter(_consumer.Name, e.Seq, e.Topic, $"{e.Type}.v{e.Version}", attempt, ex.ToString(), _time.GetUtcNow()), cancellationToken);
                await park.SetCursorAsync(_cursor, CursorKind.Consumer, e.Seq, cancellationToken);
                await park.CommitAsync(cancellationToken);
                Interlocked.Increment(ref _parked);
                CoreMetrics.DeadLettered.Add(1, new KeyValuePair<string, object?>("consumer", _consumer.Name));
                Log.Parked(_logger, ex, _consumer.Name, e.Seq, attempt);
                return;
            }
        }
    }

    /// <summary>
    /// A damaged record in the consumer's way (it fails its checksum, so the log never serves it): parked as a dead letter,
    /// its topic and type unknown, so the read model goes on after it and the damage is on record where an operator looks.
    /// </summary>
    private async ValueTask ParkDamagedAsync(LogCorruptionException damage, long seq, CancellationToken cancellationToken)
    {
        await using var park = await BeginAsync(cancellationToken);
        await park.ParkAsync(new DeadLetter(_consumer.Name, seq, DeadLetter.DamagedRecord, DeadLetter.DamagedRecord, 1, damage.Message, _time.GetUtcNow()), cancellationToken);
        await park.SetCursorAsync(_cursor, CursorKind.Consumer, seq, cancellationToken);
        await park.CommitAsync(cancellationToken);
        Interlocked.Increment(ref _parked);
        CoreMetrics.DeadLettered.Add(1, new KeyValuePair<string, object?>("consumer", _consumer.Name));
        Log.Parked(_logger, damage, _consumer.Name, seq, 1);
    }

    /// <summary>
    /// Waits for the next append. A consumer that skipped events its filter does not take saves that progress every
    /// 10,000 events, not per event; when the log then goes quiet for a second it saves it too, so its checkpoint does
    /// not hold back retention of topics it never reads (HQ's price history, say) until 10,000 more events pass.
    /// </summary>
    private async Task IdleAsync(CancellationToken cancellationToken)
    {
        if (_position <= _persisted)
        {
            await _log.WaitForAppendAsync(_position, cancellationToken);
            return;
        }

        using var quiet = new CancellationTokenSource(IdlePersistDelay, _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, quiet.Token);
        try
        {
            await _log.WaitForAppendAsync(_position, wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var position = _position;
            await PersistAsync(position, cancellationToken);
            _persisted = position;
        }
    }

    /// <summary>Commits the consumer's work, then tells it (<see cref="ICommitListener"/>) before its new position is visible.</summary>
    private async ValueTask CommitAsync(ILogTransaction tx, CancellationToken cancellationToken)
    {
        await tx.CommitAsync(cancellationToken);
        (_consumer as ICommitListener)?.Committed();
    }

    /// <summary>A read-model transaction, fenced first when the consumer runs under a lease.</summary>
    private async ValueTask<ILogTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        var tx = await _log.BeginTransactionAsync(ReadModelDurability, cancellationToken);
        if (_options.Fence is { } fence)
        {
            try
            {
                await fence(tx, cancellationToken);
            }
            catch
            {
                await tx.DisposeAsync();
                throw;
            }
        }

        return tx;
    }

    /// <summary>Moves the checkpoint alone (past events the filter skipped, or after a page handled one by one).</summary>
    private async ValueTask PersistAsync(long position, CancellationToken cancellationToken)
    {
        if (_options.Fence is null)
        {
            await _log.SetCursorAsync(_cursor, CursorKind.Consumer, position, cancellationToken);
            return;
        }

        await using var tx = await BeginAsync(cancellationToken);
        await tx.SetCursorAsync(_cursor, CursorKind.Consumer, position, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, _time, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Consumer {Consumer} failed on events {First}..{Last}; retrying them one by one.")]
        public static partial void PageFailed(ILogger logger, Exception exception, string consumer, long first, long last);

        [LoggerMessage(2, LogLevel.Warning, "Consumer {Consumer} failed on event {Seq} (attempt {Attempt}).")]
        public static partial void AttemptFailed(ILogger logger, Exception exception, string consumer, long seq, int attempt);

        [LoggerMessage(3, LogLevel.Error, "Consumer {Consumer} parked event {Seq} in dead letters after {Attempts} attempts.")]
        public static partial void Parked(ILogger logger, Exception exception, string consumer, long seq, int attempts);

        [LoggerMessage(4, LogLevel.Error, "Consumer {Consumer} could not read the log after {Position}; it will try again.")]
        public static partial void ReadFailed(ILogger logger, Exception exception, string consumer, long position);
    }
}
