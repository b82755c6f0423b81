using System.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Threading;
using Outpost.Retail.Telemetry;
using Outpost.Store.Api;

namespace Outpost.Store;

/// <summary>
/// Every <see cref="StoreOptions.HealthInterval"/> (a minute), appends the store server's health to its log as a
/// <c>StoreHealthReported</c> telemetry event: CPU, memory, disk, the log's and WAL's sizes, parked events, read-model
/// lags, request p99 per endpoint group, server errors per minute, the payment host's state, devices. It goes up to HQ
/// over the same store-and-forward path as the sales: nothing is lost while the link is down beyond the telemetry
/// topic's byte budget, which evicts the oldest first, so the newest report is the last to go.
/// </summary>
public sealed partial class StoreHealthReporter(StoreServices services, IEventLog log, StoreOptions options, RequestTimings timings, ILogger<StoreHealthReporter> logger)
    : BackgroundService
{
    private static readonly TimeSpan DeviceOnlineWithin = TimeSpan.FromMinutes(2);
    private TimeSpan _cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    private long _wallBefore = Stopwatch.GetTimestamp();

    /// <summary>Measures and appends one report (the loop calls it; tests may).</summary>
    public async Task<StoreHealthReportedV1> ReportAsync(CancellationToken cancellationToken)
    {
        var report = await MeasureAsync(cancellationToken);
        await log.AppendAsync(new NewEvent
        {
            Topic = TelemetryEvents.Topic,
            Type = TelemetryEvents.StoreHealthReported,
            Key = TelemetryEvents.HealthKey,
            Scope = Scope.Store(options.StoreId),
            Payload = NewEvent.Json(report, TelemetryJsonContext.Default.StoreHealthReportedV1),
        }, cancellationToken);
        return report;
    }

    /// <summary>The store server's health now, over the interval since the last measure.</summary>
    public async Task<StoreHealthReportedV1> MeasureAsync(CancellationToken cancellationToken)
    {
        using var process = Process.GetCurrentProcess();
        var (cpu, wall) = (process.TotalProcessorTime, Stopwatch.GetTimestamp());
        var elapsed = Stopwatch.GetElapsedTime(_wallBefore, wall);
        var cpuPercent = elapsed > TimeSpan.Zero ? Math.Round(100 * (cpu - _cpuBefore).TotalSeconds / (elapsed.TotalSeconds * Environment.ProcessorCount), 1) : 0;
        (_cpuBefore, _wallBefore) = (cpu, wall);

        var directory = Path.GetDirectoryName(Path.GetFullPath(options.LogPath))!;
        var disk = new DriveInfo(directory);
        var head = log.Head;
        var lags = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var consumer in services.Retail.Status)
        {
            lags[consumer.Name] = Math.Max(0, head - consumer.Position);
        }

        var (requests, errors, p99) = timings.Drain();
        var now = options.Time.GetUtcNow();
        var devices = services.Devices.List().Where(d => !d.Device.Revoked).ToList();
        return new StoreHealthReportedV1(
            now, (int)Math.Round(elapsed.TotalSeconds), Math.Clamp(cpuPercent, 0, 100), process.WorkingSet64, disk.AvailableFreeSpace, disk.TotalSize,
            FileBytes(options.LogPath), FileBytes(options.LogPath + "-wal"), (await log.GetLatestDeadLettersAsync(0, cancellationToken)).Total, lags, requests, p99,
            elapsed > TimeSpan.Zero ? Math.Round(errors / elapsed.TotalMinutes, 2) : 0, services.Terminal.Host,
            await services.Retail.Checkout.OfflineApprovalsPendingAsync(cancellationToken), devices.Count,
            devices.Count(d => d.LastSeen is { } seen && now - seen <= DeviceOnlineWithin), services.Problem);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.HealthInterval, options.Time, ReportAsync, ex => Log.ReportFailed(logger, ex), stoppingToken);

    private static long FileBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not report the store server's health; the next interval tries again.")]
        public static partial void ReportFailed(ILogger logger, Exception exception);
    }
}
