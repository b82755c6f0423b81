namespace Outpost.Central.Fleet;

/// <summary>The JSON an alert webhook receives.</summary>
public enum AlertFormat
{
    /// <summary>The Prometheus Alertmanager webhook body, version 4 (Alertmanager receivers, Grafana OnCall, most chat bridges).</summary>
    Alertmanager = 0,

    /// <summary>PagerDuty Events API v2: <c>trigger</c> and <c>resolve</c> events with one <c>dedup_key</c> per store and condition.</summary>
    PagerDuty = 1,
}

/// <summary>When HQ raises alerts about stores, and where it sends them.</summary>
public sealed class AlertOptions
{
    /// <summary>Where alerts go (see <see cref="Format"/>); null keeps them on the fleet view only.</summary>
    public Uri? Webhook { get; set; }

    /// <summary>The JSON sent to <see cref="Webhook"/>.</summary>
    public AlertFormat Format { get; set; } = AlertFormat.Alertmanager;

    /// <summary>The PagerDuty integration key (<c>routing_key</c>); required with <see cref="AlertFormat.PagerDuty"/>.</summary>
    public string? RoutingKey { get; set; }

    /// <summary>
    /// A store not heard from for this long is offline (alert <c>StoreOffline</c>). Keep it well above the stores' long
    /// poll (25 s) plus the 2 s in which HQ writes the fleet figures, or an online store between requests looks offline.
    /// </summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A device not heard from for this long is offline: flagged on the fleet page, counted on <c>/metrics</c>, and a
    /// connected store with one raises <c>DevicesOffline</c>. Devices' heartbeats reach HQ at most once a minute each,
    /// by the store's clock; keep it well above that.
    /// </summary>
    public TimeSpan DeviceOfflineAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A store whose latest health report gives less free disk than this, in percent of the disk, raises <c>DiskAlmostFull</c>.</summary>
    public double DiskFreeBelowPercent { get; set; } = 10;

    /// <summary>A store whose reported upload backlog has kept growing for this long raises <c>BacklogGrowing</c>.</summary>
    public TimeSpan BacklogWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often conditions are evaluated.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>HQ's address for links in the alerts (the fleet page).</summary>
    public Uri? ExternalUrl { get; set; }

    /// <summary>PagerDuty's Events API v2 endpoint: where PagerDuty alerts go when no webhook is given.</summary>
    public static Uri PagerDutyEvents { get; } = new("https://events.pagerduty.com/v2/enqueue");

    /// <summary>These options, completed (PagerDuty's endpoint by default) and checked.</summary>
    /// <exception cref="ArgumentException">PagerDuty without a routing key.</exception>
    public AlertOptions Checked()
    {
        if (Format != AlertFormat.PagerDuty)
        {
            return this;
        }

        if (string.IsNullOrWhiteSpace(RoutingKey))
        {
            throw new ArgumentException("PagerDuty alerts need the service's integration key (routing key): --alert-routing-key or OUTPOST_ALERT_ROUTING_KEY.", nameof(RoutingKey));
        }

        Webhook ??= PagerDutyEvents;
        return this;
    }
}
