using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Outpost.Core.Log;

namespace Outpost.Sync.Hosting;

/// <summary>
/// Applies the log's topic retention (until done + grace, byte budgets, compaction by key) at a fixed
/// interval while the node runs: a store keeps within its disk; HQ keeps only the newest state of each key
/// of a compacted topic, which is what a new store receives first.
/// </summary>
public sealed partial class RetentionService(IEventLog log, TimeProvider time, ILogger<RetentionService> logger, TimeSpan? interval = null) : BackgroundService
{
    /// <summary>How often retention runs (5 minutes unless set).</summary>
    public TimeSpan Interval { get; } = interval ?? TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await log.ApplyRetentionAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    Log.Failed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Retention failed; it runs again at the next interval.")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
