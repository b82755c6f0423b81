using Outpost.Sync.Faults;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Central.Fleet;
using Outpost.Core.Events;
using Outpost.Retail.Telemetry;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>A real HTTP receiver standing in for Alertmanager, PagerDuty or a chat bridge: it keeps what it is sent.</summary>
internal sealed class AlertReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AlertReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<JsonElement> Received { get; } = new();

    public Uri Url => new(_app.Address(), "alerts");

    public static async Task<AlertReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new AlertReceiver(app);
        app.MapPost("/alerts", async (HttpRequest request) =>
        {
            receiver.Received.Enqueue((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
            return Results.Ok();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return receiver;
    }

    public List<(string Status, string Alert, string Store)> Messages() =>
        [.. Received.Select(m => (m.GetProperty("status").GetString()!, m.GetProperty("alerts")[0].GetProperty("labels").GetProperty("alertname").GetString()!,
            m.GetProperty("alerts")[0].GetProperty("labels").GetProperty("store").GetString()!))];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Fleet health and alerts, on SQLite and on PostgreSQL.</summary>
public abstract class FleetHealthTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh HQ database: null for SQLite, or a PostgreSQL connection string.</summary>
    protected abstract Task<string?> HqDatabaseAsync();

    /// <summary>A registered store's HTTP client on HQ's sync endpoints, standing in for its agent.</summary>
    private static async Task<HttpClient> StoreClientAsync(Cluster cluster, string store, string region)
    {
        var credential = await cluster.RegisterAsync(store, region);
        var http = new HttpClient { BaseAddress = cluster.HqAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", $"{store}:{credential.Secret}");
        return http;
    }

    /// <summary>One down request carrying the store's reported backlog and version, as the agent sends them.</summary>
    private static async Task ReportBacklogAsync(HttpClient http, long backlog, string version)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "sync/v1/down?after=0&wait=0");
        request.Headers.Add(SyncWire.BacklogHeader, backlog.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(SyncWire.VersionHeader, version);
        using var response = await http.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_last_seen_time_alone_is_written_at_most_every_SeenEvery_and_a_changed_figure_at_once()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), configure: o => o.Alerts.OfflineAfter = TimeSpan.FromSeconds(8));
        await cluster.RegisterAsync("s1", "north");
        var fleet = cluster.Hq.Services.GetRequiredService<FleetHealth>();
        var s1 = new Outpost.Sync.Hq.StoreIdentity("s1", "north");
        Assert.Equal(TimeSpan.FromSeconds(2), fleet.SeenEvery); // a quarter of the offline alert's delay, under 15 s

        async Task<StoreHealth> RowAsync()
        {
            await fleet.FlushAsync(Ct);
            return (await fleet.ListAsync(Ct)).Single(s => s.StoreId == "s1");
        }

        fleet.DownServed(s1, 10, 10);
        var first = await RowAsync();
        Assert.NotNull(first.LastSeen);

        // Served again at once: the same report, no events, a last-seen time within SeenEvery: nothing written.
        await Task.Delay(50, Ct);
        fleet.DownServed(s1, 10, 10);
        Assert.Equal(first.LastSeen, (await RowAsync()).LastSeen);

        // A figure that changed is written at once, with the time it came.
        await Task.Delay(50, Ct);
        fleet.Reported(s1, new StoreReport("9.9.9", 7, 0, null));
        var reported = await RowAsync();
        Assert.Equal(("9.9.9", 7L), (reported.Version, reported.Backlog));
        Assert.True(reported.LastSeen > first.LastSeen);

        // Past SeenEvery, the time alone is written again.
        await Task.Delay(fleet.SeenEvery + TimeSpan.FromMilliseconds(200), Ct);
        fleet.DownServed(s1, 10, 10);
        Assert.True((await RowAsync()).LastSeen > reported.LastSeen);
    }

    [Fact]
    public async Task An_outage_backlog_counts_each_event_once_and_the_fleet_view_shows_none_left_as_soon_as_the_store_caught_up()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        await using var proxy = new FaultProxy(cluster.HqAddress);

        // No heartbeat in the test's time: only the catch-up's own batches can tell HQ the backlog is gone.
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address, tweak: o => o.Heartbeat = TimeSpan.FromMinutes(10));
        await store.Log.AppendAsync(Cluster.Sale("before"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => await store.AckedUpAsync() == store.Log.Head, Bound), "the first sale never went up");

        // Cut off, three tills sell while the agent retries and counts its backlog between their appends.
        proxy.Mode = ProxyMode.Cut;
        await Task.WhenAll(Enumerable.Range(0, 3).Select(till => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await store.Log.AppendAsync(Cluster.Sale($"t{till}-{i}"), Ct);
            }
        }, Ct)));
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current is { State: ConnectivityState.Offline, UpBacklog: 300 }), Bound),
            $"the store never reported offline with exactly 300 waiting: {store.Connectivity.Current}");
        for (var i = 0; i < 10; i++)
        {
            await Task.Delay(100, Ct);
            Assert.Equal(300, store.Connectivity.Current.UpBacklog); // retries count again: never an event twice
        }

        proxy.Mode = ProxyMode.Pass;
        List<StoreHealth>? fleet = null;
        Assert.True(await Cluster.EventuallyAsync(async () =>
            (fleet = await cluster.Admin.GetFromJsonAsync<List<StoreHealth>>("admin/fleet", Ct))!.Any(s => s.StoreId == "s1" && s.EventsToday == 301 && s.Backlog == 0),
            Bound), $"the fleet view never showed s1 caught up: {JsonSerializer.Serialize(fleet)}");
    }

    [Fact]
    public async Task The_fleet_view_shows_each_store_connected_with_its_version_and_figures_and_an_outage_alerts_once_then_resolves()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), configure: o =>
        {
            o.Alerts.Webhook = receiver.Url;
            // Above the test stores' 2 s long poll plus the fleet figures' 2 s flush, as 10 min is above 25 s + 2 s in production.
            o.Alerts.OfflineAfter = TimeSpan.FromSeconds(6);
            o.Alerts.Interval = TimeSpan.FromMilliseconds(200);
            o.Alerts.ExternalUrl = new Uri("http://hq.example/");
        });
        await using var proxy = new FaultProxy(cluster.HqAddress);
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address);
        await cluster.RegisterAsync("s2", "south"); // registered, never seen: listed, not alerted
        for (var i = 0; i < 5; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"b{i}"), Ct);
        }

        List<StoreHealth>? fleet = null;
        Assert.True(await Cluster.EventuallyAsync(async () =>
            (fleet = await cluster.Admin.GetFromJsonAsync<List<StoreHealth>>("admin/fleet", Ct))!.Any(s => s.StoreId == "s1" && s.Connected && s.EventsToday >= 5 && s.Backlog == 0 && s.Lag == 0),
            Bound), "the fleet view never showed s1 connected with its 5 sales, caught up both ways");
        var s1 = fleet!.Single(s => s.StoreId == "s1");
        Assert.Equal((SyncClient.SoftwareVersion, "north", 0L), (s1.Version, s1.Region, s1.Lag));
        var s2 = fleet!.Single(s => s.StoreId == "s2");
        Assert.Equal((false, (DateTimeOffset?)null, 0), (s2.Connected, s2.LastSeen, s2.Alerts.Count));

        // The link goes down: one firing notification, not one per pass.
        proxy.Mode = ProxyMode.Cut;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(receiver.Messages().Count >= 1), Bound), "no alert arrived");
        await Task.Delay(1000, Ct);
        Assert.Equal([("firing", AlertService.StoreOffline, "s1")], receiver.Messages());
        var firing = receiver.Received.First();
        Assert.Equal("4", firing.GetProperty("version").GetString());
        var alert = firing.GetProperty("alerts")[0];
        Assert.Equal(("north", "0001-01-01T00:00:00+00:00", "http://hq.example/fleet.html"),
            (alert.GetProperty("labels").GetProperty("region").GetString(), alert.GetProperty("endsAt").GetString(), alert.GetProperty("generatorURL").GetString()));
        Assert.Contains("has not synced", alert.GetProperty("annotations").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Contains(AlertService.StoreOffline, (await cluster.Admin.GetFromJsonAsync<List<StoreHealth>>("admin/fleet", Ct))!.Single(s => s.StoreId == "s1").Alerts);

        // It comes back: one resolved notification, and no new alert while it stays online.
        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(receiver.Messages().Count >= 2), Bound), "no resolved message arrived");
        await Task.Delay(8000, Ct);
        Assert.Equal([("firing", AlertService.StoreOffline, "s1"), ("resolved", AlertService.StoreOffline, "s1")], receiver.Messages());
        Assert.NotEqual("0001-01-01T00:00:00+00:00", receiver.Received.Last().GetProperty("alerts")[0].GetProperty("endsAt").GetString());
    }

    [Fact]
    public async Task Devices_are_searched_filtered_and_counted_in_the_database_and_a_connected_store_with_silent_ones_alerts_until_they_are_back()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), configure: o =>
        {
            o.Alerts.Webhook = receiver.Url;
            o.Alerts.Interval = TimeSpan.FromHours(1); // passes run when the test says
        });
        await cluster.RegisterAsync("s1", "north");
        await cluster.RegisterAsync("s2", "south");
        var now = DateTimeOffset.UtcNow;
        var seq = new Dictionary<string, long>();
        async Task TellAsync(string store, string type, byte[] payload, string device)
        {
            seq[store] = seq.GetValueOrDefault(store) + 1;
            await cluster.HqLog.AppendAsync(new NewEvent
            {
                Topic = TelemetryEvents.Topic, Type = type, Key = device, Scope = Scope.Store(store), Payload = payload,
                Origin = new EventOrigin(NodeId.Parse(store), seq[store], HlcTimestamp.From(now.ToUnixTimeMilliseconds(), (int)seq[store])),
            }, Ct);
        }

        Task BeatAsync(string store, string device, string role, DateTimeOffset at) =>
            TellAsync(store, TelemetryEvents.DeviceHeartbeat, NewEvent.Json(new DeviceHeartbeatV1(device, role, "web-2", at), TelemetryJsonContext.Default.DeviceHeartbeatV1), device);

        await TellAsync("s1", TelemetryEvents.DeviceEnrolled, NewEvent.Json(new DeviceEnrolledV1("till-a", "Till_1", "till", now), TelemetryJsonContext.Default.DeviceEnrolledV1), "till-a");
        await TellAsync("s1", TelemetryEvents.DeviceEnrolled, NewEvent.Json(new DeviceEnrolledV1("till-b", "Till 1", "till", now), TelemetryJsonContext.Default.DeviceEnrolledV1), "till-b");
        await BeatAsync("s1", "till-a", "till", now);
        await BeatAsync("s1", "till-b", "till", now.AddMinutes(-30)); // silent for half an hour
        await BeatAsync("s1", "till-b", "till", now.AddMinutes(-40)); // an older heartbeat arriving late changes nothing
        await BeatAsync("s2", "kiosk-c", "kiosk", now);

        async Task<DevicePage> PageAsync(string query)
        {
            DevicePage? page = null;
            Assert.True(await Cluster.EventuallyAsync(async () =>
                (page = await cluster.Admin.GetFromJsonAsync<DevicePage>("admin/devices?" + query, Ct))!.Total > 0 || query.Contains("none", StringComparison.Ordinal), Bound),
                $"HQ never listed devices for {query}");
            return page!;
        }

        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.Admin.GetFromJsonAsync<DevicePage>("admin/devices", Ct))!.Total == 3, Bound), "HQ never listed the 3 devices");
        // The user's _ is a character, not a wildcard: "l_1" finds Till_1 and not "Till 1".
        Assert.Equal(["till-a"], (await PageAsync("q=L_1")).Devices.Select(d => d.DeviceId));
        var silent = await PageAsync("state=offline");
        Assert.Equal((1L, 1L, "till-b", "Till 1", "north"), (silent.Total, silent.Offline, silent.Devices[0].DeviceId, silent.Devices[0].Name, silent.Devices[0].Region));
        Assert.Equal(now.AddMinutes(-30).ToUnixTimeMilliseconds(), silent.Devices[0].LastSeen!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(["kiosk-c"], (await PageAsync("region=south")).Devices.Select(d => d.DeviceId));
        Assert.Equal(["till-a", "till-b"], (await PageAsync("role=till&store=s1")).Devices.Select(d => d.DeviceId));
        Assert.Equal(["till-b"], (await PageAsync("store=s1&offset=1&limit=1")).Devices.Select(d => d.DeviceId));

        // s1 is connected with a silent till: DevicesOffline, naming it. s2 is not connected: its devices are no alert of their own.
        var fleet = cluster.Hq.Services.GetRequiredService<FleetHealth>();
        fleet.Reported(new Outpost.Sync.Hq.StoreIdentity("s1", "north"), new StoreReport("1.0.0", 0, 0, null));
        await fleet.FlushAsync(Ct);
        var alerts = cluster.Hq.Services.GetRequiredService<AlertService>();
        await alerts.EvaluateAsync(Ct);
        Assert.Equal([("firing", AlertService.DevicesOffline, "s1")], receiver.Messages());
        var summary = receiver.Received.Single().GetProperty("alerts")[0].GetProperty("annotations").GetProperty("summary").GetString();
        Assert.Contains("1 of 2 devices not heard from for 10 min: till-b (Till 1)", summary, StringComparison.Ordinal);
        var counts = (await cluster.Admin.GetFromJsonAsync<List<StoreHealth>>("admin/fleet", Ct))!.ToDictionary(s => s.StoreId, s => s.Devices);
        Assert.Equal((new DeviceCounts(2, 1), new DeviceCounts(1, 0)), (counts["s1"], counts["s2"]));

        // The till is back: resolved on the next pass.
        await BeatAsync("s1", "till-b", "till", DateTimeOffset.UtcNow);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.Admin.GetFromJsonAsync<DevicePage>("admin/devices?state=offline", Ct))!.Total == 0, Bound),
            "HQ never saw till-b back");
        await alerts.EvaluateAsync(Ct);
        Assert.Equal([("firing", AlertService.DevicesOffline, "s1"), ("resolved", AlertService.DevicesOffline, "s1")], receiver.Messages());
    }

    [Fact]
    public async Task A_backlog_that_keeps_growing_alerts_and_a_draining_one_resolves()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), configure: o =>
        {
            o.Alerts.Webhook = receiver.Url;
            o.Alerts.BacklogWindow = TimeSpan.FromSeconds(3);
            o.Alerts.Interval = TimeSpan.FromMilliseconds(200);
        });
        using var http = await StoreClientAsync(cluster, "s3", "east");
        Task ReportAsync(long backlog) => ReportBacklogAsync(http, backlog, "9.9.9");

        for (var backlog = 100; receiver.Messages().Count == 0 && backlog < 100 + 40 * 100; backlog += 100)
        {
            await ReportAsync(backlog);
            await Task.Delay(250, Ct);
        }

        Assert.Equal([("firing", AlertService.BacklogGrowing, "s3")], receiver.Messages());
        await ReportAsync(0);
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(receiver.Messages().Count == 2), Bound), "the backlog alert never resolved");
        Assert.Equal(("resolved", AlertService.BacklogGrowing), (receiver.Messages()[1].Status, receiver.Messages()[1].Alert));
        var s3 = (await cluster.Admin.GetFromJsonAsync<List<StoreHealth>>("admin/fleet", Ct))!.Single(s => s.StoreId == "s3");
        Assert.Equal(("9.9.9", 0L), (s3.Version, s3.Backlog));
    }

    [Fact]
    public async Task Alerts_can_go_to_pagerduty_as_a_trigger_and_a_resolve_with_one_dedup_key()
    {
        var refused = Assert.Throws<ArgumentException>(() => new AlertOptions { Format = AlertFormat.PagerDuty }.Checked());
        Assert.Contains("routing key", refused.Message, StringComparison.Ordinal);
        Assert.Equal(AlertOptions.PagerDutyEvents, new AlertOptions { Format = AlertFormat.PagerDuty, RoutingKey = "k" }.Checked().Webhook);

        await using var receiver = await AlertReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), configure: o =>
        {
            o.Alerts.Webhook = receiver.Url;
            o.Alerts.Format = AlertFormat.PagerDuty;
            o.Alerts.RoutingKey = "R0UT1NG-KEY";
            o.Alerts.BacklogWindow = TimeSpan.FromSeconds(3);
            o.Alerts.Interval = TimeSpan.FromMilliseconds(200);
            o.Alerts.ExternalUrl = new Uri("http://hq.example/");
        });
        using var http = await StoreClientAsync(cluster, "s4", "west");
        Task ReportAsync(long backlog) => ReportBacklogAsync(http, backlog, "9.9.9");

        for (var backlog = 100; receiver.Received.IsEmpty && backlog < 100 + 40 * 100; backlog += 100)
        {
            await ReportAsync(backlog);
            await Task.Delay(250, Ct);
        }

        await ReportAsync(0);
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(receiver.Received.Count == 2), Bound), "no resolve arrived");
        var (trigger, resolve) = (receiver.Received.First(), receiver.Received.Last());
        Assert.Equal(("R0UT1NG-KEY", "trigger", "outpost/s4/BacklogGrowing"),
            (trigger.GetProperty("routing_key").GetString(), trigger.GetProperty("event_action").GetString(), trigger.GetProperty("dedup_key").GetString()));
        var payload = trigger.GetProperty("payload");
        Assert.Equal(("store s4", "warning", "west", "BacklogGrowing"),
            (payload.GetProperty("source").GetString(), payload.GetProperty("severity").GetString(), payload.GetProperty("group").GetString(), payload.GetProperty("class").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(payload.GetProperty("summary").GetString()));
        Assert.Equal("http://hq.example/fleet.html", trigger.GetProperty("links")[0].GetProperty("href").GetString());
        Assert.Equal(("resolve", "outpost/s4/BacklogGrowing", false),
            (resolve.GetProperty("event_action").GetString(), resolve.GetProperty("dedup_key").GetString(), resolve.TryGetProperty("payload", out _)));
    }

    [Fact]
    public async Task Hq_serves_its_fleet_page_and_prometheus_metrics()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync());
        using var http = new HttpClient { BaseAddress = cluster.HqAddress };
        var page = await http.GetStringAsync("fleet.html", Ct);
        Assert.Contains("<table id=\"fleet\">", page, StringComparison.Ordinal);
        Assert.Contains("export async function api", await http.GetStringAsync("hq.js", Ct), StringComparison.Ordinal);
        await cluster.HqLog.AppendAsync(Cluster.Sale("m1", topic: "prices"), Ct);
        var metrics = await http.GetStringAsync("metrics", Ct);
        Assert.Contains("outpost_log_appended", metrics, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_pause_time_seconds_total", metrics, StringComparison.Ordinal);
    }
}

public sealed class FleetHealthTestsOnSqlite : FleetHealthTests
{
    protected override Task<string?> HqDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class FleetHealthTestsOnPostgres(Outpost.Testing.PostgresServer server) : FleetHealthTests
{
    protected override async Task<string?> HqDatabaseAsync() => await server.CreateDatabaseAsync(TestContext.Current.CancellationToken);
}
