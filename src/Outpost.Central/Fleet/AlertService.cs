using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.Central.Ingest;
using Outpost.Core.Log;
using Outpost.Core.Threading;

namespace Outpost.Central.Fleet;

/// <summary>
/// Raises and resolves store alerts (<c>StoreOffline</c>, <c>BacklogGrowing</c>, <c>DevicesOffline</c>, <c>DiskAlmostFull</c>, <c>ParkedAtStore</c>) from the fleet figures and sends each
/// change once to the configured webhook, in the Prometheus Alertmanager format or as PagerDuty Events API v2
/// (<see cref="AlertOptions.Format"/>): one notification when a condition starts, one when it clears, per store and
/// condition (a notification that fails is retried on the next pass).
/// With several HQ nodes only the holder of the <c>hq-alerts</c> lease evaluates, so nothing is sent twice.
/// </summary>
public sealed partial class AlertService(IEventLog log, FleetHealth fleet, HqReadModels models, IOptions<AlertOptions> options, TimeProvider time, ILogger<AlertService> logger)
    : BackgroundService
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Alert names.</summary>
    public const string StoreOffline = "StoreOffline";

    /// <summary>Alert names.</summary>
    public const string BacklogGrowing = "BacklogGrowing";

    /// <summary>Alert names: a connected store has devices not heard from for <see cref="AlertOptions.DeviceOfflineAfter"/>.</summary>
    public const string DevicesOffline = "DevicesOffline";

    /// <summary>Alert names: a store's latest health report gives less free disk than <see cref="AlertOptions.DiskFreeBelowPercent"/>.</summary>
    public const string DiskAlmostFull = "DiskAlmostFull";

    /// <summary>Alert names: a store's latest health report gives events parked by its read models.</summary>
    public const string ParkedAtStore = "ParkedAtStore";

    /// <summary>Every alert this evaluator raises (each has its rule in <c>deploy/prometheus/outpost-rules.yml</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = [StoreOffline, BacklogGrowing, DevicesOffline, DiskAlmostFull, ParkedAtStore];

    private readonly string _holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    private readonly OnceSucceeded _leases = new(cancellationToken => log.CreateTablesAsync(ConsumerLease.Schema, cancellationToken));

    /// <summary>One pass: evaluate every store, record changes, send what is not sent yet. Returns the notifications sent.</summary>
    public async Task<int> EvaluateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await fleet.EnsureCreatedAsync(cancellationToken);
        var now = time.GetUtcNow();
        var health = (await FleetFigures.ListAsync(fleet, log, models, now, settings.DeviceOfflineAfter, withLogs: false, cancellationToken))
            .ToDictionary(h => h.StoreId, StringComparer.Ordinal);
        var rising = await RisingSinceAsync(cancellationToken);
        var firing = await FiringAsync(cancellationToken);

        // Decide in memory, then write only what changed: the log's writers take turns, and a pass over 2,000 stores
        // must not hold the write turn while it reads.
        // A summary is written only when its alert starts: it is made then, not on every pass.
        var changes = new List<(string Store, string Alert, bool Start, long StartsAt, Func<Task<string>> Summary)>();
        void Decide(string store, string alert, bool active, Func<Task<string>> summary)
        {
            var isFiring = firing.TryGetValue((store, alert), out var startsAt);
            if (active != isFiring)
            {
                changes.Add((store, alert, active, startsAt, summary));
            }
        }

        Func<Task<string>> Text(Func<string> summary) => () => Task.FromResult(summary());

        foreach (var store in health.Values.Where(h => h.LastSeen is not null && !h.Revoked))
        {
            var silent = now - store.LastSeen!.Value;
            Decide(store.StoreId, StoreOffline, silent > settings.OfflineAfter, Text(() =>
                $"Store {store.StoreId} ({store.Region}) has not synced for {silent.TotalMinutes:F0} min (since {store.LastSeen:u})."));
            var growing = rising.TryGetValue(store.StoreId, out var since) && store.Backlog > 0 && now - since > settings.BacklogWindow;
            Decide(store.StoreId, BacklogGrowing, growing, Text(() =>
                $"Store {store.StoreId} ({store.Region}) has an upload backlog of {store.Backlog} events that has kept growing since {since:u}."));

            // Only while the store itself is connected: an offline store's devices are silent at HQ because its link is,
            // and StoreOffline already says so.
            var counts = store.Devices;
            Decide(store.StoreId, DevicesOffline, counts is { Offline: > 0 } && silent <= settings.OfflineAfter, async () =>
                $"Store {store.StoreId} ({store.Region}): {counts!.Offline} of {counts.Total} devices not heard from for {settings.DeviceOfflineAfter.TotalMinutes:0.#} min: " +
                string.Join(", ", await FleetDevices.OfflineAsync(log, store.StoreId, now, settings.DeviceOfflineAfter, 5, cancellationToken)) + (counts.Offline > 5 ? ", …" : "") + ".");

            // From the store's latest health report, however old: a disk does not empty itself while the link is down.
            var report = store.Health;
            Decide(store.StoreId, DiskAlmostFull, report is not null && report.DiskFreePercent < settings.DiskFreeBelowPercent, Text(() =>
                $"Store {store.StoreId} ({store.Region}): {report?.DiskFreeBytes / (1024 * 1024)} MiB free of {report?.DiskSizeBytes / (1024 * 1024)} MiB " +
                $"({report?.DiskFreePercent:0.#} %) on the disk of its data, at {report?.At:u}."));
            Decide(store.StoreId, ParkedAtStore, report is { ParkedEvents: > 0 }, Text(() =>
                $"Store {store.StoreId} ({store.Region}): its read models parked {report?.ParkedEvents} event(s) they could not read, at {report?.At:u}."));
        }

        var summaries = new Dictionary<(string, string), string>();
        foreach (var change in changes.Where(c => c.Start))
        {
            summaries[(change.Store, change.Alert)] = await change.Summary(); // read before the write turn is taken
        }

        if (changes.Count > 0)
        {
            await using var tx = await log.BeginTransactionAsync(cancellationToken);
            foreach (var change in changes)
            {
                if (change.Start)
                {
                    await tx.ExecuteAsync("INSERT INTO hq_alerts(store, alert, starts_at, status, ends_at, notified, summary) VALUES(@store, @alert, @at, 'firing', NULL, 0, @summary)",
                        cancellationToken, ("@store", change.Store), ("@alert", change.Alert), ("@at", now.ToUnixTimeMilliseconds()), ("@summary", summaries[(change.Store, change.Alert)]));
                }
                else
                {
                    await tx.ExecuteAsync("UPDATE hq_alerts SET status = 'resolved', ends_at = @at, notified = 0 WHERE store = @store AND alert = @alert AND starts_at = @starts AND status = 'firing'",
                        cancellationToken, ("@at", now.ToUnixTimeMilliseconds()), ("@store", change.Store), ("@alert", change.Alert), ("@starts", change.StartsAt));
                }
            }

            await tx.CommitAsync(cancellationToken);
        }

        return settings.Webhook is null ? 0 : await NotifyAsync(settings, health, cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = new ConsumerLease(log, "hq-alerts", _holder, time, TimeSpan.FromTicks(Math.Max(options.Value.Interval.Ticks * 4, TimeSpan.FromSeconds(10).Ticks)));
        long? epoch = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.Interval, time, stoppingToken);
                await _leases.EnsureAsync(stoppingToken); // in the loop: a node that starts while its database restarts keeps trying
                epoch = epoch is { } held && await lease.RenewAsync(held, stoppingToken) ? held : await lease.TryAcquireAsync(stoppingToken);
                if (epoch is not null)
                {
                    await EvaluateAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.PassFailed(logger, ex);
            }
        }
    }

    private async Task<Dictionary<string, DateTimeOffset>> RisingSinceAsync(CancellationToken cancellationToken)
    {
        var rising = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, backlog_rising_since FROM hq_fleet WHERE backlog_rising_since IS NOT NULL";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rising[reader.GetString(0)] = DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
        }

        return rising;
    }

    /// <summary>The alerts firing now, with when each started (a condition is raised once: deduplication).</summary>
    private async Task<Dictionary<(string Store, string Alert), long>> FiringAsync(CancellationToken cancellationToken)
    {
        var firing = new Dictionary<(string, string), long>();
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, alert, starts_at FROM hq_alerts WHERE status = 'firing'";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            firing[(reader.GetString(0), reader.GetString(1))] = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
        }

        return firing;
    }

    private async Task<int> NotifyAsync(AlertOptions settings, Dictionary<string, StoreHealth> health, CancellationToken cancellationToken)
    {
        var pending = new List<PendingAlert>();
        await using (var connection = await log.OpenReadConnectionAsync(cancellationToken))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT store, alert, starts_at, status, ends_at, summary FROM hq_alerts WHERE notified = 0 ORDER BY starts_at";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                pending.Add(new PendingAlert(reader.GetString(0), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), reader.GetString(3),
                    reader.IsDBNull(4) ? null : Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture), reader.GetString(5)));
            }
        }

        var sent = 0;
        foreach (var alert in pending)
        {
            var region = health.TryGetValue(alert.Store, out var store) ? store.Region : "";
            try
            {
                using var response = settings.Format == AlertFormat.PagerDuty
                    ? await _http.PostAsJsonAsync(settings.Webhook, PagerDuty(settings, alert, region), AlertJsonContext.Default.PagerDutyEvent, cancellationToken)
                    : await _http.PostAsJsonAsync(settings.Webhook, Alertmanager(settings, alert, region), AlertJsonContext.Default.AlertmanagerMessage, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    Log.WebhookRefused(logger, (int)response.StatusCode, alert.Alert, alert.Store);
                    continue;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.WebhookFailed(logger, ex, alert.Alert, alert.Store);
                continue;
            }

            await using var tx = await log.BeginTransactionAsync(cancellationToken);
            await tx.ExecuteAsync("UPDATE hq_alerts SET notified = 1 WHERE store = @store AND alert = @alert AND starts_at = @starts AND status = @status", cancellationToken,
                ("@store", alert.Store), ("@alert", alert.Alert), ("@starts", alert.StartsAt), ("@status", alert.Status));
            await tx.CommitAsync(cancellationToken);
            sent++;
        }

        return sent;
    }

    private static AlertmanagerMessage Alertmanager(AlertOptions settings, PendingAlert alert, string region)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = alert.Alert, ["store"] = alert.Store, ["region"] = region, ["severity"] = "warning", ["service"] = "outpost" };
        var annotations = new Dictionary<string, string> { ["summary"] = alert.Summary, ["description"] = Describe(alert.Alert) };
        return new AlertmanagerMessage(
            Version: "4",
            GroupKey: $"{{}}:{{alertname=\"{alert.Alert}\",store=\"{alert.Store}\"}}",
            TruncatedAlerts: 0,
            Status: alert.Status,
            Receiver: "outpost",
            GroupLabels: new Dictionary<string, string> { ["alertname"] = alert.Alert, ["store"] = alert.Store },
            CommonLabels: labels,
            CommonAnnotations: annotations,
            ExternalUrl: settings.ExternalUrl?.ToString() ?? "",
            Alerts: [new AlertmanagerAlert(alert.Status, labels, annotations, DateTimeOffset.FromUnixTimeMilliseconds(alert.StartsAt),
                alert.EndsAt is { } ends ? DateTimeOffset.FromUnixTimeMilliseconds(ends) : DateTimeOffset.MinValue,
                FleetPage(settings), Fingerprint(alert.Store, alert.Alert))]);
    }

    /// <summary>A PagerDuty Events API v2 event: the dedup key ties the resolve to its trigger, so PagerDuty closes the incident.</summary>
    private static PagerDutyEvent PagerDuty(AlertOptions settings, PendingAlert alert, string region)
    {
        var dedup = $"outpost/{alert.Store}/{alert.Alert}";
        if (alert.Status == "resolved")
        {
            return new PagerDutyEvent(settings.RoutingKey!, "resolve", dedup, null, null, "Outpost HQ", null);
        }

        var details = new Dictionary<string, string> { ["store"] = alert.Store, ["region"] = region, ["description"] = Describe(alert.Alert) };
        var payload = new PagerDutyPayload(alert.Summary, $"store {alert.Store}", "warning", DateTimeOffset.FromUnixTimeMilliseconds(alert.StartsAt), "store-link",
            region, alert.Alert, details);
        var page = FleetPage(settings);
        return new PagerDutyEvent(settings.RoutingKey!, "trigger", dedup, payload, page.Length == 0 ? null : [new PagerDutyLink(page, "Outpost fleet")], "Outpost HQ",
            page.Length == 0 ? null : page);
    }

    private static string FleetPage(AlertOptions settings) => settings.ExternalUrl is { } url ? new Uri(url, "fleet.html").ToString() : "";

    /// <inheritdoc />
    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private static string Describe(string alert) => alert switch
    {
        StoreOffline => "The store keeps trading offline; its sales wait in its log and reach HQ when the link returns. Check the store's internet link.",
        DiskAlmostFull => "The store's disk is nearly full: once it is, the store refuses to record sales (it never tears one). Free space on the store server " +
            "(its log keeps only what HQ has not acknowledged, plus the budgets of low-value topics).",
        ParkedAtStore => "A read model at the store could not read some events (most often a newer version sent before the store was upgraded): its figures " +
            "miss them until the store runs a version that reads them. See the store's health on HQ's fleet page.",
        DevicesOffline => "Tills, kiosks or screens at the store stopped sending heartbeats: switched off, crashed, or off the store's network. " +
            "Find them on the fleet page (the store's devices); revoke a device that is gone for good.",
        _ => "The store is producing events faster than its link uploads them. Check the link's bandwidth or errors on the fleet page.",
    };

    private static string Fingerprint(string store, string alert) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store + "|" + alert)))[..16];

    private sealed record PendingAlert(string Store, string Alert, long StartsAt, string Status, long? EndsAt, string Summary);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "An alert pass failed; it runs again at the next interval.")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "The alert webhook refused {Alert} for {Store} with {Status}; retrying at the next pass.")]
        public static partial void WebhookRefused(ILogger logger, int status, string alert, string store);

        [LoggerMessage(3, LogLevel.Warning, "The alert webhook could not be reached for {Alert} of {Store}; retrying at the next pass.")]
        public static partial void WebhookFailed(ILogger logger, Exception exception, string alert, string store);
    }
}

/// <summary>The Prometheus Alertmanager webhook body (version 4), which operations tools take.</summary>
public sealed record AlertmanagerMessage(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("groupKey")] string GroupKey,
    [property: JsonPropertyName("truncatedAlerts")] int TruncatedAlerts,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("receiver")] string Receiver,
    [property: JsonPropertyName("groupLabels")] IReadOnlyDictionary<string, string> GroupLabels,
    [property: JsonPropertyName("commonLabels")] IReadOnlyDictionary<string, string> CommonLabels,
    [property: JsonPropertyName("commonAnnotations")] IReadOnlyDictionary<string, string> CommonAnnotations,
    [property: JsonPropertyName("externalURL")] string ExternalUrl,
    [property: JsonPropertyName("alerts")] IReadOnlyList<AlertmanagerAlert> Alerts);

/// <summary>One alert of an Alertmanager webhook body; <c>endsAt</c> is 0001-01-01 while it fires.</summary>
public sealed record AlertmanagerAlert(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string> Annotations,
    [property: JsonPropertyName("startsAt")] DateTimeOffset StartsAt,
    [property: JsonPropertyName("endsAt")] DateTimeOffset EndsAt,
    [property: JsonPropertyName("generatorURL")] string GeneratorUrl,
    [property: JsonPropertyName("fingerprint")] string Fingerprint);

/// <summary>A PagerDuty Events API v2 event (<c>POST https://events.pagerduty.com/v2/enqueue</c>); a resolve carries no payload.</summary>
public sealed record PagerDutyEvent(
    [property: JsonPropertyName("routing_key")] string RoutingKey,
    [property: JsonPropertyName("event_action")] string EventAction,
    [property: JsonPropertyName("dedup_key")] string DedupKey,
    [property: JsonPropertyName("payload"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PagerDutyPayload? Payload,
    [property: JsonPropertyName("links"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<PagerDutyLink>? Links,
    [property: JsonPropertyName("client")] string Client,
    [property: JsonPropertyName("client_url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientUrl);

/// <summary>What a PagerDuty trigger says: <c>class</c> is the alert name, <c>group</c> the store's region.</summary>
public sealed record PagerDutyPayload(
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("component")] string Component,
    [property: JsonPropertyName("group")] string Group,
    [property: JsonPropertyName("class")] string Class,
    [property: JsonPropertyName("custom_details")] IReadOnlyDictionary<string, string> CustomDetails);

/// <summary>A link shown on the PagerDuty incident.</summary>
public sealed record PagerDutyLink([property: JsonPropertyName("href")] string Href, [property: JsonPropertyName("text")] string Text);

/// <summary>Source-generated JSON for alerts.</summary>
[JsonSerializable(typeof(AlertmanagerMessage))]
[JsonSerializable(typeof(PagerDutyEvent))]
public sealed partial class AlertJsonContext : JsonSerializerContext;
