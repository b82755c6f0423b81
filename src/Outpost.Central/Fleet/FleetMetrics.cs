using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.Central.Ingest;
using Outpost.Core.Log;
using Outpost.Core.Threading;

namespace Outpost.Central.Fleet;

/// <summary>
/// The fleet on HQ's <c>/metrics</c>, for Prometheus: per store (labels <c>store</c> and <c>region</c> only, never a
/// device's or a sale's id) whether it is connected, the seconds since HQ last heard from it, the backlog and lag it
/// reported, the version it runs (an info metric), its devices online and offline, its disk and parked events from its
/// latest health report, and each alert firing for it; and HQ's own read models' lag and
/// parked events. A snapshot of the fleet view is read every <see cref="RefreshEvery"/> (the fleet page's queries, and
/// the read models' cursors), so a scrape never touches the database; every node exposes the whole fleet (the table is shared), and the
/// shipped rules take the worst over nodes.
/// </summary>
public sealed partial class FleetMetrics : BackgroundService
{
    /// <summary>The meter's name (HQ's metrics pipeline listens to it).</summary>
    public const string MeterName = "Outpost.Fleet";

    private readonly FleetHealth _fleet;
    private readonly IEventLog _log;
    private readonly HqReadModels _models;
    private readonly TimeProvider _time;
    private readonly ILogger<FleetMetrics> _logger;
    private readonly Meter _meter;
    private readonly AlertOptions _alerts;
    private volatile Snapshot _snapshot = new([], [], 0);

    /// <summary>Creates the instruments; they report nothing until the first snapshot.</summary>
    public FleetMetrics(FleetHealth fleet, IEventLog log, HqReadModels models, IOptions<AlertOptions> alerts, FleetMetrics.Scope scope, TimeProvider time, ILogger<FleetMetrics> logger)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        // Its scope is this HQ's, so another HQ in the same process (tests run several) drops it from its /metrics (see Only).
        _meter = new Meter(new MeterOptions(MeterName) { Scope = scope });
        (_fleet, _log, _models, _time, _logger, _alerts) = (fleet, log, models, time, logger, alerts.Value);
        // As often as alerts are evaluated, when that is more often: an alert is on /metrics within one pass.
        RefreshEvery = alerts.Value.Interval < MostlyEvery ? alerts.Value.Interval : MostlyEvery;
        _meter.CreateObservableGauge("outpost.fleet.store.connected", () => Each(s => s.Connected ? 1 : 0),
            description: "1 while HQ has heard from the store within the last minute (it holds a long poll while online), else 0.");
        _meter.CreateObservableGauge("outpost.fleet.store.last_seen_age", () => Seen(), "s",
            "Seconds since the store's last sync request reached any HQ node (absent for a store never seen).");
        _meter.CreateObservableGauge("outpost.fleet.store.upload_backlog", () => Each(s => s.Backlog), "{event}",
            "Events waiting at the store to go up to HQ, as the store last reported.");
        _meter.CreateObservableGauge("outpost.fleet.store.download_lag", () => Each(s => s.Lag), "{event}",
            "HQ events the store had not received yet, as it last reported.");
        _meter.CreateObservableGauge("outpost.fleet.store.info", () => Info(),
            description: "1 for each store, with the version it runs (label version).");
        _meter.CreateObservableGauge("outpost.fleet.store.devices", () => Devices(), "{device}",
            "The store's devices HQ knows, by state (label state): online when heard from within the devices' offline time, else offline.");
        _meter.CreateObservableGauge("outpost.fleet.store.disk_free", () => Vitals(v => v.DiskFreeBytes), "By",
            "Free space on the disk of the store's data, from its latest health report (absent before its first).");
        _meter.CreateObservableGauge("outpost.fleet.store.disk_size", () => Vitals(v => v.DiskSizeBytes), "By",
            "The size of the disk of the store's data, from its latest health report.");
        _meter.CreateObservableGauge("outpost.fleet.store.parked_events", () => Vitals(v => v.ParkedEvents), "{event}",
            "Events the store's own read models parked, from its latest health report.");
        _meter.CreateObservableGauge("outpost.fleet.alert", () => Alerts(),
            description: "1 for each alert firing for a store (label alert: StoreOffline, BacklogGrowing, DevicesOffline, DiskAlmostFull, ParkedAtStore), as HQ's alert evaluator decided it.");
        _meter.CreateObservableGauge("outpost.hq.read_model.lag", () => _snapshot.ReadModelLag.Select(m => new Measurement<long>(m.Lag, new KeyValuePair<string, object?>("read_model", m.Name))), "{event}",
            "Events in HQ's log that a read model of HQ has not applied yet (ingest falling behind).");
        _meter.CreateObservableGauge("outpost.hq.parked_events", () => _snapshot.Parked, "{event}",
            "Events HQ's read models parked because they could not read them (the events themselves are stored).");
    }

    /// <summary>Series a fleet metric may have (a store each, and its alerts): ten times a large retailer's fleet and room to spare.</summary>
    public const int MaxSeries = 100_000;

    /// <summary>How often the fleet view is read for the metrics: every 5 s, or every alert pass when those are more often.</summary>
    public TimeSpan RefreshEvery { get; }

    private static readonly TimeSpan MostlyEvery = TimeSpan.FromSeconds(5);

    /// <summary>Reads the fleet view, HQ's read models' cursors and its parked events once (the loop calls it; tests may).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var stores = await FleetFigures.ListAsync(_fleet, _log, _models, _time.GetUtcNow(), _alerts.DeviceOfflineAfter, withLogs: false, cancellationToken);
        var head = _log.Head;
        var lags = new List<(string, long)>();
        foreach (var model in _models.Consumers)
        {
            lags.Add((model.Name, Math.Max(0, head - (await _log.GetCursorAsync(Outpost.Core.Consumers.ConsumerRunner.CursorName(model.Name), cancellationToken) ?? 0))));
        }

        var parked = await _log.GetLatestDeadLettersAsync(0, cancellationToken);
        _snapshot = new Snapshot(stores, lags, parked.Total);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // The database may be down (HQ answers 503 then): the metrics keep the last snapshot until it is back.
        Periodic.RunAsync(RefreshEvery, _time, RefreshAsync, ex => Log.RefreshFailed(_logger, ex), stoppingToken, runFirst: true);

    /// <inheritdoc />
    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// The view HQ's metrics pipeline applies to instruments: a fleet instrument of another HQ's <paramref name="scope"/>
    /// is dropped (meters are process-wide: without this, each HQ in a process would show every HQ's stores), and its own
    /// may have <see cref="MaxSeries"/> series. Others pass unchanged.
    /// </summary>
    public static OpenTelemetry.Metrics.MetricStreamConfiguration? Only(Instrument instrument, Scope scope)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return instrument.Meter.Name != MeterName ? null
            : !ReferenceEquals(instrument.Meter.Scope, scope) ? OpenTelemetry.Metrics.MetricStreamConfiguration.Drop
            : new OpenTelemetry.Metrics.MetricStreamConfiguration { CardinalityLimit = MaxSeries };
    }

    /// <summary>One HQ's identity for its fleet meter (a singleton of its host).</summary>
    public sealed class Scope;

    private IEnumerable<Measurement<long>> Each(Func<StoreHealth, long?> value)
    {
        foreach (var store in _snapshot.Stores)
        {
            if (value(store) is { } v)
            {
                yield return new Measurement<long>(v, Labels(store));
            }
        }
    }

    private IEnumerable<Measurement<double>> Seen()
    {
        var now = _time.GetUtcNow();
        foreach (var store in _snapshot.Stores)
        {
            if (store.LastSeen is { } seen)
            {
                yield return new Measurement<double>(Math.Round(Math.Max(0, (now - seen).TotalSeconds), 1), Labels(store));
            }
        }
    }

    private IEnumerable<Measurement<long>> Info() =>
        _snapshot.Stores.Select(s => new Measurement<long>(1, [.. Labels(s), new("version", s.Version ?? "unknown")]));

    private IEnumerable<Measurement<long>> Devices()
    {
        foreach (var store in _snapshot.Stores)
        {
            if (store.Devices is { } counts)
            {
                yield return new Measurement<long>(counts.Total - counts.Offline, [.. Labels(store), new("state", "online")]);
                yield return new Measurement<long>(counts.Offline, [.. Labels(store), new("state", "offline")]);
            }
        }
    }

    private IEnumerable<Measurement<long>> Vitals(Func<StoreVitals, long> value) => Each(s => s.Health is { } vitals ? value(vitals) : null);

    private IEnumerable<Measurement<long>> Alerts() =>
        _snapshot.Stores.SelectMany(s => s.Alerts.Select(alert => new Measurement<long>(1, [.. Labels(s), new("alert", alert)])));

    private static KeyValuePair<string, object?>[] Labels(StoreHealth store) => [new("store", store.StoreId), new("region", store.Region)];

    private sealed record Snapshot(IReadOnlyList<StoreHealth> Stores, IReadOnlyList<(string Name, long Lag)> ReadModelLag, long Parked);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not read the fleet for /metrics; the last figures stay until the next try.")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
