using System.Diagnostics;
using System.Threading.Channels;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Telemetry;

namespace Outpost.Store;

/// <summary>Which of the store server's log entries go up to HQ, and how many.</summary>
public sealed class LogsUpOptions
{
    /// <summary>The lowest level sent up (Warning by default; <c>None</c> sends nothing).</summary>
    public LogLevel Level { get; set; } = LogLevel.Warning;

    /// <summary>Entries sent up per minute at most, in bursts of as many; the rest are counted and said in the next one that goes.</summary>
    public int PerMinute { get; set; } = 30;
}

/// <summary>
/// Sends the store server's warnings and errors up to HQ: a logger provider that takes every entry at or above
/// <see cref="LogsUpOptions.Level"/> (whatever the console's level), and a pump that appends them to the log as
/// <c>StoreLogged</c> telemetry, within a rate (<see cref="LogsUpOptions.PerMinute"/>) and the telemetry topic's byte
/// budget. A storm of errors costs a bounded queue and a count: what the rate keeps back is counted in the next entry
/// that goes up. Entries wait at the store while the link is down, like the sales.
/// </summary>
public sealed class LogShipper(LogsUpOptions options, TimeProvider time) : ILoggerProvider
{
    private const int QueueLength = 1000;
    private const int MaxMessage = 2000;
    private const int MaxException = 4000;
    private readonly Channel<StoreLoggedV1> _queue = Channel.CreateBounded<StoreLoggedV1>(new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _dropped;

    /// <summary>Which entries go up, and how many.</summary>
    internal LogsUpOptions Options => options;

    /// <summary>The entries waiting to be appended.</summary>
    internal ChannelReader<StoreLoggedV1> Queue => _queue.Reader;

    /// <summary>Entries not queued (the queue full, or the rate spent), since the last that went up; read and reset by the pump.</summary>
    internal long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    internal void Drop(long count) => Interlocked.Add(ref _dropped, count);

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose() => _queue.Writer.TryComplete();

    private void Write(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var entry = new StoreLoggedV1(time.GetUtcNow(), level.ToString(), category, eventId.Id, Cut(message, MaxMessage), exception is null ? null : Cut(exception.ToString(), MaxException),
            Activity.Current?.TraceId.ToHexString(), 0);
        if (!_queue.Writer.TryWrite(entry))
        {
            Drop(1);
        }
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private sealed class Logger(LogShipper shipper, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= shipper.Options.Level;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                shipper.Write(logLevel, category, eventId, formatter(state, exception), exception);
            }
        }
    }
}

/// <summary>Appends the queued entries of <see cref="LogShipper"/> to the log, within its rate.</summary>
internal sealed class LogShipperPump(LogShipper shipper, IEventLog log, StoreOptions options) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var time = options.Time;
        var perMinute = Math.Max(1, options.LogsUp.PerMinute);
        double tokens = perMinute;
        var refilled = time.GetTimestamp();
        try
        {
            while (await shipper.Queue.WaitToReadAsync(stoppingToken))
            {
                while (shipper.Queue.TryRead(out var entry))
                {
                    var now = time.GetTimestamp();
                    tokens = Math.Min(perMinute, tokens + time.GetElapsedTime(refilled, now).TotalMinutes * perMinute);
                    refilled = now;
                    if (tokens < 1)
                    {
                        shipper.Drop(1);
                        continue;
                    }

                    tokens--;
                    var suppressed = shipper.TakeDropped();
                    try
                    {
                        await log.AppendAsync(new NewEvent
                        {
                            Topic = TelemetryEvents.Topic,
                            Type = TelemetryEvents.StoreLogged,
                            Key = TelemetryEvents.LogKey,
                            Scope = Scope.Store(options.StoreId),
                            Payload = NewEvent.Json(entry with { Suppressed = suppressed }, TelemetryJsonContext.Default.StoreLoggedV1),
                        }, stoppingToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                    {
                        // Never logged (it would come back here): a full disk or a closing log loses this entry, counted.
                        shipper.Drop(suppressed + 1);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
