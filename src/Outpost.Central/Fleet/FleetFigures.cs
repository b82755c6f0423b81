using Outpost.Central.Ingest;
using Outpost.Core.Log;

namespace Outpost.Central.Fleet;

/// <summary>
/// The fleet view with what the stores' telemetry adds to each store: its devices counted, the key figures of its
/// latest health report and, for the fleet page, its newest warning. One read for the page, /metrics and the alerts.
/// </summary>
public static class FleetFigures
{
    /// <summary>Every registered store, with <see cref="StoreHealth.Devices"/> and <see cref="StoreHealth.Health"/> (and <see cref="StoreHealth.LastLog"/> when asked).</summary>
    public static async Task<IReadOnlyList<StoreHealth>> ListAsync(FleetHealth fleet, IEventLog log, HqReadModels models, DateTimeOffset now, TimeSpan deviceOfflineAfter,
        bool withLogs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(models);
        var stores = await fleet.ListAsync(cancellationToken);
        await models.EnsureCreatedAsync(cancellationToken);
        var devices = await FleetDevices.CountsAsync(log, now, deviceOfflineAfter, cancellationToken);
        var health = await StoreHealthReports.LatestAsync(log, cancellationToken);
        var logs = withLogs ? await StoreLogs.NewestAsync(log, cancellationToken) : [];
        return [.. stores.Select(s => s with
        {
            Devices = devices.GetValueOrDefault(s.StoreId), Health = health.GetValueOrDefault(s.StoreId), LastLog = logs.GetValueOrDefault(s.StoreId),
        })];
    }
}
