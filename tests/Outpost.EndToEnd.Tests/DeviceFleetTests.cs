using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Outpost.Central;
using Outpost.Central.Fleet;
using Outpost.Central.Ingest;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Retail.Telemetry;
using Outpost.Sync.Faults;
using Outpost.Sync.Hosting;
using Outpost.Sync.Hq;
using Outpost.Sync.Protocol;
using Outpost.Testing;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

/// <summary>Every store's devices at HQ: from a real store's heartbeats to HQ's API, its fleet page, /metrics and alerts.</summary>
public sealed class DeviceFleetTests(Browser browser) : IClassFixture<Browser>
{
    private const string Token = "hq-admin";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_stores_devices_reach_hq_with_name_role_and_version_a_revoked_one_leaves_and_heartbeats_sent_while_cut_off_arrive_later()
    {
        await using var shop = await Shop.StartAsync();
        using var hqAdmin = new HttpClient { BaseAddress = shop.Hq.Address() };
        hqAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var storeAdmin = shop.Client(Shop.AdminToken);
        var till = await EnrolAsync(storeAdmin, "Till 1", "till");
        var kiosk = await EnrolAsync(storeAdmin, "Kiosk by the door", "kiosk");
        await HeartbeatAsync(shop, till.Token, "web-1.4.2");
        await HeartbeatAsync(shop, kiosk.Token, "web-1.4.2");

        var listed = await WaitForDevicesAsync(hqAdmin, $"store={Shop.StoreId}", p => p.GetProperty("total").GetInt64() == 2 && Devices(p).All(d => d.GetProperty("appVersion").ValueKind == JsonValueKind.String));
        var byId = Devices(listed).ToDictionary(d => d.GetProperty("deviceId").GetString()!);
        Assert.Equal(("Till 1", "till", "web-1.4.2", false, "north"), Shape(byId[till.Id]));
        Assert.Equal(("Kiosk by the door", "kiosk", "web-1.4.2", false, "north"), Shape(byId[kiosk.Id]));
        Assert.Equal(0, listed.GetProperty("offline").GetInt64());

        // Search finds a device by part of its name, in any case, across the fleet.
        var found = await PageAsync(hqAdmin, "q=BY%20THE%20door");
        Assert.Equal([kiosk.Id], Devices(found).Select(d => d.GetProperty("deviceId").GetString()));

        // Revoked at the store: HQ stops expecting it.
        using (var revoked = await storeAdmin.DeleteAsync($"/api/devices/{kiosk.Id}", Ct))
        {
            Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync(Ct));
        }

        await WaitForDevicesAsync(hqAdmin, $"store={Shop.StoreId}", p => p.GetProperty("total").GetInt64() == 1);

        // The link is cut: the till's new version waits at the store with its heartbeat, and arrives with the link.
        shop.Link.Mode = ProxyMode.Reset;
        await HeartbeatAsync(shop, till.Token, "web-1.5.0");
        await Task.Delay(1500, Ct);
        Assert.Equal("web-1.4.2", Devices(await PageAsync(hqAdmin, $"store={Shop.StoreId}"))[0].GetProperty("appVersion").GetString());
        shop.Link.Mode = ProxyMode.Pass;
        await WaitForDevicesAsync(hqAdmin, $"store={Shop.StoreId}", p => Devices(p)[0].GetProperty("appVersion").GetString() == "web-1.5.0");

        // The fleet list counts them per store.
        var fleet = JsonDocument.Parse(await hqAdmin.GetStringAsync("admin/fleet", Ct)).RootElement;
        var devices = fleet.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == Shop.StoreId).GetProperty("devices");
        Assert.Equal((1, 0), (devices.GetProperty("total").GetInt64(), devices.GetProperty("offline").GetInt64()));
    }

    [Fact]
    public async Task A_stores_health_reports_reach_hq_after_an_outage_the_newest_wins_and_feed_the_fleet_list_metrics_and_the_disk_alert()
    {
        await using var shop = await Shop.StartAsync();
        using var hqAdmin = new HttpClient { BaseAddress = shop.Hq.Address() };
        hqAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.NotFound, (await hqAdmin.GetAsync($"admin/stores/{Shop.StoreId}/health", Ct)).StatusCode);

        // Three reports while the link is cut: they wait at the store and go up with it; HQ keeps the newest.
        var reporter = shop.Store.Services.GetRequiredService<Outpost.Store.StoreHealthReporter>();
        shop.Link.Mode = ProxyMode.Reset;
        var reports = new List<StoreHealthReportedV1>();
        for (var i = 0; i < 3; i++)
        {
            reports.Add(await reporter.ReportAsync(Ct));
            await Task.Delay(20, Ct);
        }

        await Task.Delay(1000, Ct);
        Assert.Equal(HttpStatusCode.NotFound, (await hqAdmin.GetAsync($"admin/stores/{Shop.StoreId}/health", Ct)).StatusCode);
        shop.Link.Mode = ProxyMode.Pass;
        JsonElement? atHq = null;
        for (var i = 0; i < 300 && atHq is null; i++)
        {
            using var response = await hqAdmin.GetAsync($"admin/stores/{Shop.StoreId}/health", Ct);
            atHq = response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement : null;
            await Task.Delay(atHq is null ? 100 : 0, Ct);
        }

        Assert.NotNull(atHq);
        var newest = reports[^1];
        Assert.Equal(newest.At, atHq.Value.GetProperty("at").GetDateTimeOffset());
        Assert.Equal((newest.DiskFreeBytes, newest.LogBytes), (atHq.Value.GetProperty("diskFreeBytes").GetInt64(), atHq.Value.GetProperty("logBytes").GetInt64()));
        Assert.True(atHq.Value.GetProperty("consumerLags").TryGetProperty("catalog", out _), atHq.Value.ToString());

        // The fleet list's figures, /metrics, and the disk alert (its threshold raised past any disk's free space).
        var row = JsonDocument.Parse(await hqAdmin.GetStringAsync("admin/fleet", Ct)).RootElement.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == Shop.StoreId);
        Assert.Equal(newest.DiskSizeBytes, row.GetProperty("health").GetProperty("diskSizeBytes").GetInt64());
        await shop.Hq.Services.GetRequiredService<FleetMetrics>().RefreshAsync(Ct);
        var metrics = await hqAdmin.GetStringAsync("/metrics", Ct);
        Assert.Equal(newest.DiskFreeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Sample(metrics, "outpost_fleet_store_disk_free_bytes", $"store=\"{Shop.StoreId}\""));
        Assert.Equal("0", Sample(metrics, "outpost_fleet_store_parked_events", $"store=\"{Shop.StoreId}\""));
        var alerts = shop.Hq.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertOptions>>().Value;
        var evaluator = shop.Hq.Services.GetRequiredService<AlertService>();
        await shop.Hq.Services.GetRequiredService<FleetHealth>().FlushAsync(Ct); // the store's last sync in the fleet table: alerts are for stores seen
        await evaluator.EvaluateAsync(Ct);
        Assert.DoesNotContain(AlertService.DiskAlmostFull, await AlertsAsync(hqAdmin));
        alerts.DiskFreeBelowPercent = 100.1;
        await evaluator.EvaluateAsync(Ct);
        Assert.Contains(AlertService.DiskAlmostFull, await AlertsAsync(hqAdmin));
    }

    [Fact]
    public async Task A_stores_warnings_and_errors_reach_hq_with_their_exception_and_the_fleet_list_shows_the_newest()
    {
        await using var shop = await Shop.StartAsync();
        using var hqAdmin = new HttpClient { BaseAddress = shop.Hq.Address() };
        hqAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // Written through the store server's own logging, as any of its classes writes; one while its link is cut.
        var logger = shop.Store.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("Outpost.Retail.Checkout.PaymentTerminal");
        TerminalLog.NoAnswer(logger, new TimeoutException("no answer in 30 s"), 2);
        shop.Link.Mode = ProxyMode.Reset;
        TerminalLog.Slow(logger, 2);
        await Task.Delay(1000, Ct);
        shop.Link.Mode = ProxyMode.Pass;

        List<JsonElement> entries = [];
        for (var i = 0; i < 300 && entries.Count(e => e.GetProperty("category").GetString() == "Outpost.Retail.Checkout.PaymentTerminal") < 2; i++)
        {
            entries = [.. JsonDocument.Parse(await hqAdmin.GetStringAsync($"admin/stores/{Shop.StoreId}/logs?limit=100", Ct)).RootElement.EnumerateArray()];
            await Task.Delay(100, Ct);
        }

        var ours = entries.Where(e => e.GetProperty("category").GetString() == "Outpost.Retail.Checkout.PaymentTerminal").ToList();
        Assert.Equal(["The payment terminal at till 2 answers slowly.", "The payment terminal at till 2 did not answer."], ours.Select(e => e.GetProperty("message").GetString()));
        Assert.Equal(("Warning", "Error"), (ours[0].GetProperty("level").GetString(), ours[1].GetProperty("level").GetString()));
        Assert.Contains("TimeoutException: no answer in 30 s", ours[1].GetProperty("exception").GetString(), StringComparison.Ordinal);

        var row = JsonDocument.Parse(await hqAdmin.GetStringAsync("admin/fleet", Ct)).RootElement.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == Shop.StoreId);
        Assert.Equal(entries[0].GetProperty("message").GetString(), row.GetProperty("lastLog").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await hqAdmin.GetAsync($"admin/stores/{Shop.StoreId}/logs?limit=101", Ct)).StatusCode);
    }

    private static async Task<List<string>> AlertsAsync(HttpClient hqAdmin) =>
        [.. JsonDocument.Parse(await hqAdmin.GetStringAsync("admin/fleet", Ct)).RootElement.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == Shop.StoreId)
            .GetProperty("alerts").EnumerateArray().Select(a => a.GetString()!)];

    [Theory]
    [InlineData("limit=501", "'limit' is 1 to 500")]
    [InlineData("limit=0", "'limit' is 1 to 500")]
    [InlineData("offset=-1", "'offset' is a whole number, not '-1'")]
    [InlineData("offset=abc", "'offset' is a whole number, not 'abc'")]
    [InlineData("state=asleep", "'state' is offline or online, not 'asleep'")]
    public async Task A_bad_device_query_is_refused_saying_what_is_wrong(string query, string expected)
    {
        var hq = await StartHqAsync(new WallClock(DateTimeOffset.UtcNow));
        try
        {
            using var admin = Admin(hq);
            using var response = await admin.GetAsync("admin/devices?" + query, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            using var anonymous = new HttpClient { BaseAddress = hq.Address() };
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("admin/devices", Ct)).StatusCode);
        }
        finally
        {
            await StopAsync(hq);
        }
    }

    [Fact]
    public async Task The_fleet_page_drills_down_from_a_store_to_its_devices_among_40000_flags_offline_ones_and_searches_and_pages_on_hq()
    {
        // HQ's wall clock stands still, then moves when the test says: "offline" is relative to it.
        var clock = new WallClock(DateTimeOffset.UtcNow);
        var hq = await StartHqAsync(clock);
        IBrowserContext? context = null;
        try
        {
            var stores = hq.Services.GetRequiredService<StoreDirectory>();
            var fleet = hq.Services.GetRequiredService<FleetHealth>();
            await Parallel.ForAsync(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (i, ct) =>
                await stores.RegisterAsync(StoreId(i), $"region-{i % 20}", ct));
            for (var i = 0; i < 2000; i++)
            {
                fleet.Reported(new StoreIdentity(StoreId(i), $"region-{i % 20}"), new StoreReport("1.4.2", 0, 0, null));
            }

            await fleet.FlushAsync(Ct);

            // 20 devices a store, as replication delivers the stores' telemetry: store-0007 has three not heard from for
            // 20 minutes and one enrolled that never sent a heartbeat; store-0008 revoked one.
            var log = hq.Services.GetRequiredService<IEventLog>();
            var now = clock.Now;
            var batch = new List<NewEvent>(1000);
            for (var i = 0; i < 2000; i++)
            {
                var seq = 0L;
                NewEvent From(string type, string device, byte[] payload) => new()
                {
                    Topic = TelemetryEvents.Topic, Type = type, Key = device, Scope = Scope.Store(StoreId(i)), Payload = payload,
                    Origin = new EventOrigin(NodeId.Parse(StoreId(i)), ++seq, HlcTimestamp.From(now.ToUnixTimeMilliseconds(), (int)seq)),
                };

                for (var d = 0; d < 20; d++)
                {
                    var id = DeviceId(i, d);
                    var role = d < 12 ? "till" : d < 16 ? "kiosk" : "kitchen";
                    batch.Add(From(TelemetryEvents.DeviceEnrolled, id, NewEvent.Json(new DeviceEnrolledV1(id, $"{role} {d}", role, now.AddDays(-30)), TelemetryJsonContext.Default.DeviceEnrolledV1)));
                    if (i == 7 && d == 19)
                    {
                        continue; // enrolled, never seen
                    }

                    var seen = i == 7 && d >= 16 ? now.AddMinutes(-20) : now.AddSeconds(-(d * 7 % 55));
                    batch.Add(From(TelemetryEvents.DeviceHeartbeat, id, NewEvent.Json(new DeviceHeartbeatV1(id, role, "web-1.4.2", seen), TelemetryJsonContext.Default.DeviceHeartbeatV1)));
                }

                if (i == 8)
                {
                    batch.Add(From(TelemetryEvents.DeviceRevoked, DeviceId(8, 5), NewEvent.Json(new DeviceRevokedV1(DeviceId(8, 5), now), TelemetryJsonContext.Default.DeviceRevokedV1)));
                }

                if (batch.Count >= 900)
                {
                    await log.AppendBatchAsync(batch, cancellationToken: Ct);
                    batch.Clear();
                }
            }

            await log.AppendBatchAsync(batch, cancellationToken: Ct);
            await WaitForReadModelAsync(hq, log);

            // The API: counts over the whole fleet, one page at a time.
            using var admin = Admin(hq);
            var all = await PageAsync(admin, "limit=50");
            Assert.Equal((39_999, 4, 50), (all.GetProperty("total").GetInt64(), all.GetProperty("offline").GetInt64(), Devices(all).Count));
            var offline = await PageAsync(admin, "state=offline");
            Assert.Equal([DeviceId(7, 16), DeviceId(7, 17), DeviceId(7, 18), DeviceId(7, 19)], Devices(offline).Select(d => d.GetProperty("deviceId").GetString()));
            Assert.Equal(JsonValueKind.Null, Devices(offline)[3].GetProperty("lastSeen").ValueKind);
            Assert.Equal(19, (await PageAsync(admin, $"store={StoreId(8)}")).GetProperty("total").GetInt64());
            Assert.Equal(2000 * 4, (await PageAsync(admin, "role=kiosk&limit=1")).GetProperty("total").GetInt64());
            Assert.Equal(20 * 100, (await PageAsync(admin, "region=region-3&limit=1")).GetProperty("total").GetInt64());

            // /metrics: devices online and offline per store, labelled by store and region only.
            await hq.Services.GetRequiredService<FleetMetrics>().RefreshAsync(Ct);
            var metrics = await admin.GetStringAsync("/metrics", Ct);
            Assert.Equal("4", Sample(metrics, "outpost_fleet_store_devices", "store=\"store-0007\"", "region=\"region-7\"", "state=\"offline\""));
            Assert.Equal("16", Sample(metrics, "outpost_fleet_store_devices", "store=\"store-0007\"", "region=\"region-7\"", "state=\"online\""));
            Assert.Equal("20", Sample(metrics, "outpost_fleet_store_devices", "store=\"store-0001\"", "state=\"online\""));
            Assert.DoesNotContain(DeviceId(7, 16), metrics, StringComparison.Ordinal);

            // HQ's alert evaluator: DevicesOffline for store-0007, which is connected, naming the devices.
            await hq.Services.GetRequiredService<AlertService>().EvaluateAsync(Ct);
            var alert = JsonDocument.Parse(await admin.GetStringAsync("admin/fleet", Ct)).RootElement.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == StoreId(7));
            Assert.Equal(["DevicesOffline"], alert.GetProperty("alerts").EnumerateArray().Select(a => a.GetString()));

            // The page: load, then from store-0007's row to its devices.
            context = await browser.Instance.NewContextAsync(new() { BaseURL = hq.Address().ToString(), ViewportSize = new() { Width = 1400, Height = 900 } });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/fleet.html");
            await page.FillAsync("#token", Token);
            var loading = Stopwatch.StartNew();
            await page.ClickAsync("#login button");
            await Expect(page.Locator("#fleet tbody tr")).ToHaveCountAsync(2000, new() { Timeout = 30_000 });
            await Expect(page.Locator("#devices tbody tr")).ToHaveCountAsync(50);
            var loaded = loading.Elapsed;
            await Expect(page.Locator("#device-range")).ToHaveTextAsync("1–50 of 39999 · 4 offline");
            await Expect(page.Locator("#n-devices-offline")).ToHaveTextAsync("4");
            await Expect(page.Locator("#device-offline-after")).ToHaveTextAsync("10 min");

            await page.CheckAsync("#problems");
            await Expect(page.Locator("#fleet tbody tr")).ToHaveCountAsync(1);
            var link = page.Locator($"#fleet a.devices[data-store='{StoreId(7)}']");
            await Expect(link).ToHaveTextAsync("16 / 20");
            await link.ClickAsync();
            await Expect(page.Locator("#devices tbody tr")).ToHaveCountAsync(20);
            await Expect(page.Locator("#device-range")).ToHaveTextAsync("1–20 of 20 · 4 offline");
            await Expect(page.Locator("#devices tbody tr.offline")).ToHaveCountAsync(4);
            await Expect(page.Locator($"#devices tr[data-device='{DeviceId(7, 19)}'] td").Nth(6)).ToHaveTextAsync("never");
            await Browser.ShotAsync(page, "hq-fleet-devices");

            // Search the fleet for one device, then page through all of them.
            await page.FillAsync("#device-store", "");
            await page.DispatchEventAsync("#device-store", "change");
            await page.FillAsync("#device-search", DeviceId(1234, 3));
            await Expect(page.Locator("#devices tbody tr")).ToHaveCountAsync(1);
            await Expect(page.Locator("#devices tbody tr td").First).ToHaveTextAsync(StoreId(1234));
            await page.FillAsync("#device-search", "");
            await Expect(page.Locator("#device-range")).ToHaveTextAsync("1–50 of 39999 · 4 offline");
            await page.ClickAsync("#device-next");
            await Expect(page.Locator("#device-range")).ToHaveTextAsync("51–100 of 39999 · 4 offline");
            await page.SelectOptionAsync("#device-state", "offline");
            await Expect(page.Locator("#devices tbody tr")).ToHaveCountAsync(4);

            // Ten minutes on without a heartbeat: every device is offline on the next refresh.
            clock.Now += TimeSpan.FromMinutes(11);
            await page.SelectOptionAsync("#device-state", "");
            await Expect(page.Locator("#device-range")).ToHaveTextAsync("1–50 of 39999 · 39999 offline", new() { Timeout = 15_000 });

            var process = Process.GetCurrentProcess();
            process.Refresh();
            TestContext.Current.SendDiagnosticMessage($"fleet page with 2,000 stores and 39,999 devices: loaded in {loaded.TotalMilliseconds:0} ms; this test process (HQ, the test) " +
                $"{process.WorkingSet64 / (1024 * 1024)} MiB resident, GC heap {GC.GetTotalMemory(false) / (1024 * 1024)} MiB");
        }
        finally
        {
            if (context is not null)
            {
                await context.CloseAsync();
            }

            await StopAsync(hq);
        }
    }

    private static string StoreId(int i) => $"store-{i:D4}";

    private static string DeviceId(int store, int device) => $"dev-{store:D4}-{device:D2}";

    private static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartHqAsync(WallClock clock)
    {
        var hq = CentralHost.Build(new CentralOptions
        {
            DataDirectory = Path.Combine(Path.GetTempPath(), "outpost-e2e-devices", Guid.NewGuid().ToString("N")),
            Urls = "http://127.0.0.1:0", AdminToken = Token, Topics = RetailTopics.Catalog, Time = clock,
        });
        await hq.StartAsync(Ct);
        return hq;
    }

    private static async Task StopAsync(Microsoft.AspNetCore.Builder.WebApplication hq)
    {
        await hq.StopAsync(CancellationToken.None);
        await hq.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static HttpClient Admin(Microsoft.AspNetCore.Builder.WebApplication hq)
    {
        var admin = new HttpClient { BaseAddress = hq.Address() };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return admin;
    }

    private static async Task WaitForReadModelAsync(Microsoft.AspNetCore.Builder.WebApplication hq, IEventLog log)
    {
        var cursor = Outpost.Core.Consumers.ConsumerRunner.CursorName(new FleetDevices().Name);
        for (var i = 0; i < 1200; i++)
        {
            if (await log.GetCursorAsync(cursor, Ct) >= log.Head)
            {
                return;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"HQ's device read model did not reach the log's head ({log.Head}) within 2 minutes: at {await log.GetCursorAsync(cursor, Ct)}");
    }

    private static async Task<(string Id, string Token)> EnrolAsync(HttpClient storeAdmin, string name, string role)
    {
        using var response = await storeAdmin.PostAsJsonAsync("/api/devices", new { name, role }, Ct);
        response.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        return (body.GetProperty("device").GetProperty("id").GetString()!, body.GetProperty("token").GetString()!);
    }

    private static async Task HeartbeatAsync(Shop shop, string token, string version)
    {
        using var device = shop.Client(token);
        using var response = await device.PostAsJsonAsync("/api/devices/heartbeat", new { appVersion = version }, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private static async Task<JsonElement> PageAsync(HttpClient admin, string query)
    {
        using var response = await admin.GetAsync("admin/devices?" + query, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"admin/devices?{query}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task<JsonElement> WaitForDevicesAsync(HttpClient admin, string query, Func<JsonElement, bool> done)
    {
        var page = await PageAsync(admin, query);
        for (var i = 0; i < 300 && !done(page); i++)
        {
            await Task.Delay(100, Ct);
            page = await PageAsync(admin, query);
        }

        Assert.True(done(page), $"HQ's devices ({query}) did not become as expected within 30 s: {page}");
        return page;
    }

    /// <summary>The value of the one sample of <paramref name="metric"/> whose labels include each of <paramref name="labels"/>.</summary>
    private static string Sample(string metrics, string metric, params string[] labels)
    {
        var lines = metrics.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && labels.All(label => l.Contains(label, StringComparison.Ordinal))).ToList();
        Assert.True(lines.Count == 1, $"{lines.Count} samples of {metric} with {string.Join(", ", labels)} on /metrics");
        return lines[0][(lines[0].LastIndexOf('}') + 2)..].Split(' ')[0];
    }

    private static List<JsonElement> Devices(JsonElement page) => [.. page.GetProperty("devices").EnumerateArray()];

    private static (string?, string?, string?, bool, string?) Shape(JsonElement d) =>
        (d.GetProperty("name").GetString(), d.GetProperty("role").GetString(), d.GetProperty("appVersion").GetString(), d.GetProperty("offline").GetBoolean(), d.GetProperty("region").GetString());
}

/// <summary>What a payment terminal integration at the store might log.</summary>
internal static partial class TerminalLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(1, Microsoft.Extensions.Logging.LogLevel.Error, "The payment terminal at till {Till} did not answer.")]
    public static partial void NoAnswer(Microsoft.Extensions.Logging.ILogger logger, Exception exception, int till);

    [Microsoft.Extensions.Logging.LoggerMessage(2, Microsoft.Extensions.Logging.LogLevel.Warning, "The payment terminal at till {Till} answers slowly.")]
    public static partial void Slow(Microsoft.Extensions.Logging.ILogger logger, int till);
}
