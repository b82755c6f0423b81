namespace Outpost.Central.Fleet;

/// <summary>When HQ raises alerts about stores, and where it sends them.</summary>
public sealed class AlertOptions
{
    /// <summary>Where alerts go, as Prometheus Alertmanager webhook JSON (version 4); null keeps them on the fleet view only.</summary>
    public Uri? Webhook { get; set; }

    /// <summary>
    /// A store not heard from for this long is offline (alert <c>StoreOffline</c>). Keep it well above the stores' long
    /// poll (25 s) plus the 2 s in which HQ writes the fleet figures, or an online store between requests looks offline.
    /// </summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A store whose reported upload backlog has kept growing for this long raises <c>BacklogGrowing</c>.</summary>
    public TimeSpan BacklogWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often conditions are evaluated.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>HQ's address for links in the alerts (the fleet page).</summary>
    public Uri? ExternalUrl { get; set; }
}
