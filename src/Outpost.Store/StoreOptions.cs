using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Retail;
using Outpost.Retail.Checkout;
using Outpost.Sync.Agent;

namespace Outpost.Store;

/// <summary>Settings of a store server.</summary>
public sealed class StoreOptions
{
    /// <summary>The store's id: its node id and the origin of its events.</summary>
    public string StoreId { get; set; } = "store-001";

    /// <summary>How it logs to its console: text or JSON, and the lowest level (<c>Log:Format</c>, <c>Log:Level</c>).</summary>
    public Outpost.Sync.Hosting.ConsoleLogSettings Log { get; set; } = new();

    /// <summary>The store's region (for regional prices, promotions and members).</summary>
    public string Region { get; set; } = "default";

    /// <summary>The store's IANA time zone: prices change at store-local times.</summary>
    public string TimeZone { get; set; } = TimeZoneInfo.Local.Id;

    /// <summary>
    /// When the store's trading day begins, store-local (default midnight; 04:00 for a store open until 2 am): the
    /// business day its sales are booked to, at the store and at HQ. From 00:00 up to, not including, 24:00.
    /// </summary>
    public TimeSpan BusinessDayStarts { get; set; }

    /// <summary>The store's ISO 4217 currency.</summary>
    public string Currency { get; set; } = "EUR";

    /// <summary>A token that acts as the back office, to enrol the first devices; null: none (every device needs an enrolled token).</summary>
    public string? AdminToken { get; set; }

    /// <summary>Checkout, loyalty and barcode rules.</summary>
    public RetailOptions Retail { get; set; } = new();

    /// <summary>The payment terminal; the simulated one by default.</summary>
    public IPaymentTerminal PaymentTerminal { get; set; } = new SimulatedPaymentTerminal();

    /// <summary>How often offline card approvals are forwarded to the payment host.</summary>
    public TimeSpan ForwardInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Which of the store server's log entries go up to HQ (warnings and errors, 30 a minute at most).</summary>
    public LogsUpOptions LogsUp { get; set; } = new();

    /// <summary>How often the store server reports its health up to HQ (a <c>StoreHealthReported</c> telemetry event).</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How fast one device may call the store server (429 with Retry-After beyond).</summary>
    public Api.DeviceRateLimitOptions RateLimits { get; set; } = new();

    /// <summary>The largest request body a device may send (bytes).</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Where the store keeps its log (<c>store.db</c>) and its open baskets (<c>store.baskets.db</c>).</summary>
    public string DataDirectory { get; set; } = Path.Combine("data", "store");

    /// <summary>The store's log file.</summary>
    public string LogPath => Path.Combine(DataDirectory, "store.db");

    /// <summary>Addresses to listen on for devices.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5090";

    /// <summary>Topic policies: up topics go to HQ, by priority.</summary>
    public TopicCatalog Topics { get; set; } = RetailTopics.Catalog;

    /// <summary>Commit durability of the store's log.</summary>
    public LogDurability Durability { get; set; } = LogDurability.Full;

    /// <summary>How to reach HQ; with no <see cref="SyncClientOptions.Central"/> the store runs alone.</summary>
    public SyncClientOptions Sync { get; set; } = new();

    /// <summary>
    /// The most events a second a service's subscription is sent while it catches up from behind (0: no limit), so a
    /// service far behind does not take the tills' share of the store's cores; caught up, events go as they are committed.
    /// </summary>
    public int ServiceCatchUpPerSecond { get; set; } = Services.Subscriptions.DefaultCatchUpPerSecond;

    /// <summary>The bridge to the store's MQTT broker for in-store equipment (section <c>Mqtt</c>); off without a broker.</summary>
    public Equipment.MqttBridgeOptions Mqtt { get; } = new();

    /// <summary>How often topic retention runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a stop (SIGTERM) may take to finish the requests in flight and stop the background services before the
    /// host gives up on them; the log still closes after it. Below Kubernetes' default 30 s grace period, so the
    /// process exits on its own before it would be killed.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
