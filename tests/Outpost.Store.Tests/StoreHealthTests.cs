using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Retail;
using Outpost.Retail.Checkout;
using Outpost.Retail.Telemetry;
using Outpost.Store.Api;

namespace Outpost.Store.Tests;

/// <summary>The store server's health report: real figures from a real server, and the newest surviving the telemetry budget.</summary>
public sealed class StoreHealthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_health_report_gives_the_servers_real_figures_and_goes_into_the_log_as_telemetry()
    {
        var terminal = new SimulatedPaymentTerminal { HostReachable = false };
        var server = await StoreServer.StartAsync(configure: o => o.PaymentTerminal = terminal);
        try
        {
            var reporter = server.App.Services.GetRequiredService<StoreHealthReporter>();
            await reporter.MeasureAsync(Ct); // the interval starts here

            var (till, _, _) = await server.DeviceAsync("till");
            (await till.PostAsJsonAsync("/api/devices/heartbeat", new { appVersion = "web-1" }, Ct)).EnsureSuccessStatusCode();
            await server.DeviceAsync("kiosk"); // enrolled, never switched on
            for (var i = 0; i < 3; i++)
            {
                // A card sale while the payment host is down: approved offline (under the floor limit), forwarded later.
                var basket = await (await till.PostAsJsonAsync("/api/baskets", new { staffId = "s1" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
                var id = basket.GetProperty("id").GetString();
                (await till.PostAsJsonAsync($"/api/baskets/{id}/lines", new { code = StoreServer.Cola, quantity = 1 }, Ct)).EnsureSuccessStatusCode();
                using var paid = await till.PostAsJsonAsync($"/api/baskets/{id}/payments", new { method = "card", amount = 1.50 }, Ct);
                Assert.True(paid.IsSuccessStatusCode, await paid.Content.ReadAsStringAsync(Ct));
                (await till.PostAsJsonAsync($"/api/baskets/{id}/complete", new { idempotencyKey = $"k-{i}" }, Ct)).EnsureSuccessStatusCode();
            }

            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await till.GetAsync("/api/baskets/nope", Ct)).StatusCode);
            // The pending approvals are a read model: let it take the third sale in before counting (a fresh machine's CI once counted 2).
            var retail = server.App.Services.GetRequiredService<StoreServices>().Retail;
            await retail.CatchUpToAsync(server.Log.Head, Ct);
            await retail.Checkout.ForwardOfflineApprovalsAsync(Ct); // the host is still down

            var report = await reporter.ReportAsync(Ct);

            Assert.InRange(report.DiskFreeBytes, 1, report.DiskSizeBytes);
            var disk = new DriveInfo(server.Directory);
            Assert.InRange(report.DiskSizeBytes, disk.TotalSize - 1, disk.TotalSize + 1);
            Assert.InRange(report.LogBytes, 4096, new FileInfo(Path.Combine(server.Directory, "store.db")).Length); // the file only grew since (this report)
            Assert.True(report.MemoryBytes > 16 * 1024 * 1024, $"resident memory {report.MemoryBytes}");
            Assert.InRange(report.CpuPercent, 0, 100);
            Assert.Equal(("unreachable", 3L), (report.PaymentHost, report.OfflineApprovalsPending));
            Assert.Equal((2, 1), (report.Devices, report.DevicesOnline));
            Assert.True(report.Requests >= 14, $"{report.Requests} requests");
            Assert.True(report.P99Milliseconds.ContainsKey("baskets") && report.P99Milliseconds["baskets"] > 0, string.Join(", ", report.P99Milliseconds));
            Assert.Contains("devices", report.P99Milliseconds.Keys);
            Assert.Equal(0, report.ErrorsPerMinute); // a 404 is the caller's mistake, not the server's
            Assert.Contains("catalog", report.ConsumerLags.Keys);
            Assert.Equal(0, report.ParkedEvents);
            Assert.Null(report.StorageProblem);

            var events = (await server.Log.ReadAsync(0, ReadFilter.ForTopics(TelemetryEvents.Topic), 1000, Ct)).Events.Where(e => e.Type == TelemetryEvents.StoreHealthReported).ToList();
            var stored = Assert.Single(events);
            Assert.Equal((TelemetryEvents.HealthKey, "store:s-042"), (stored.Key, stored.Scope.ToString()));
            Assert.Equal(report.LogBytes, stored.Deserialize(TelemetryJsonContext.Default.StoreHealthReportedV1).LogBytes);
            Assert.InRange(stored.Payload.Length, 300, 1500); // docs/operations.md: a day of reports is about a megabyte
            TestContext.Current.SendDiagnosticMessage($"a health report is {stored.Payload.Length} bytes");

            // The next interval starts empty: no request since.
            var next = await reporter.MeasureAsync(Ct);
            Assert.Equal(0, next.Requests);
            Assert.Empty(next.P99Milliseconds);
        }
        finally
        {
            await server.DisposeAndDeleteAsync();
        }
    }

    [Fact]
    public async Task Offline_for_long_the_telemetry_topic_keeps_its_byte_budget_and_the_newest_health_report_survives_eviction()
    {
        // The shipped topics, with telemetry's budget at 32 KiB so an afternoon of heartbeats fills it.
        const long Budget = 32 * 1024;
        var topics = new TopicCatalog(RetailTopics.Catalog.Declared.Select(p =>
            p.Topic == TelemetryEvents.Topic ? p with { Retention = RetentionPolicy.Budget(Budget, TimeSpan.FromDays(1)) } : p));
        var server = await StoreServer.StartAsync(configure: o => o.Topics = topics);
        try
        {
            var reporter = server.App.Services.GetRequiredService<StoreHealthReporter>();
            var devices = server.App.Services.GetRequiredService<StoreServices>().Devices;
            StoreHealthReportedV1? newest = null;
            for (var minute = 0; minute < 60; minute++)
            {
                for (var d = 0; d < 20; d++)
                {
                    await devices.HeartbeatAsync($"till-{d:D2}", "till", $"web-{minute}", Ct); // a new version each minute: each one goes up
                }

                newest = await reporter.ReportAsync(Ct);
            }

            var retention = await server.Log.ApplyRetentionAsync(Ct);
            Assert.True(retention.Evicted.GetValueOrDefault(TelemetryEvents.Topic) > 0, "nothing was evicted: the test did not fill the budget");
            var telemetry = (await server.Log.ReadAsync(0, ReadFilter.ForTopics(TelemetryEvents.Topic), 100_000, Ct)).Events;
            Assert.InRange(telemetry.Sum(e => (long)e.Payload.Length), 1, Budget);
            var last = telemetry.Last(e => e.Type == TelemetryEvents.StoreHealthReported).Deserialize(TelemetryJsonContext.Default.StoreHealthReportedV1);
            Assert.Equal(newest!.At, last.At);
            Assert.Equal(newest.LogBytes, last.LogBytes);
        }
        finally
        {
            await server.DisposeAndDeleteAsync();
        }
    }

    [Fact]
    public void Request_timings_give_a_p99_per_group_count_server_errors_and_leave_the_live_feed_out()
    {
        var timings = new RequestTimings();
        for (var i = 1; i <= 1000; i++)
        {
            timings.Record("baskets", i, i % 100 == 0 ? 503 : 200);
        }

        timings.Record("products", 2.5, 200);
        var (requests, errors, p99) = timings.Drain();
        Assert.Equal((1001L, 10L), (requests, errors));
        Assert.Equal(990, p99["baskets"]);
        Assert.Equal(2.5, p99["products"]);
        Assert.Equal((0L, 0L), (timings.Drain().Requests, timings.Drain().Errors));

        Assert.Equal("baskets", RequestTimings.GroupOf("/api/baskets/b-1/lines"));
        Assert.Equal("devices", RequestTimings.GroupOf("/api/devices/heartbeat"));
        Assert.Null(RequestTimings.GroupOf("/api/feed"));
        Assert.Equal("pages", RequestTimings.GroupOf("/till.html"));
        Assert.Equal("metrics", RequestTimings.GroupOf("/metrics"));

        // A burst far past what a group keeps: memory stays bounded, the percentile stays close.
        for (var i = 0; i < 100_000; i++)
        {
            timings.Record("orders", i % 1000, 200);
        }

        Assert.InRange(timings.Drain().P99Milliseconds["orders"], 960, 999);
    }
}

/// <summary>The store server's warnings and errors going up to HQ: structured, rate-limited, counted when held back.</summary>
public sealed class LogsUpTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Warnings_and_errors_go_into_the_log_as_telemetry_within_the_rate_and_what_it_held_back_is_counted_in_the_next()
    {
        var clock = StoreServer.Clock();
        var server = await StoreServer.StartAsync(clock, configure: o => o.LogsUp.PerMinute = 5);
        try
        {
            var logger = server.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Outpost.Store.Tests.Scale");
            ScaleLog.Calibrated(logger); // below the level sent up
            using (new System.Diagnostics.Activity("weigh").Start())
            {
                ScaleLog.Stopped(logger, new IOException("The scale's serial port closed."), 3);
            }

            for (var i = 0; i < 19; i++)
            {
                ScaleLog.Slow(logger, 3, i);
            }

            var sent = await WaitForAsync(server, 5);
            var first = sent[0];
            Assert.Equal(("Error", "Outpost.Store.Tests.Scale", "The scale at lane 3 stopped answering.", 2, 0L), (first.Level, first.Category, first.Message, first.EventId, first.Suppressed));
            Assert.Contains("IOException: The scale's serial port closed.", first.Exception, StringComparison.Ordinal);
            Assert.Equal(32, first.TraceId!.Length);
            Assert.All(sent.Skip(1), e => Assert.Equal("Warning", e.Level));
            await Task.Delay(300, Ct);
            Assert.Equal(5, (await LoggedAsync(server)).Count); // the rate is spent: the other 15 are held back

            // A minute later the rate allows more; the next entry says how many were held back.
            clock.Advance(TimeSpan.FromMinutes(1));
            ScaleLog.Back(logger, 3);
            var next = (await WaitForAsync(server, 6))[5];
            Assert.Equal(("The scale at lane 3 answers again.", 15L), (next.Message, next.Suppressed));
        }
        finally
        {
            await server.DisposeAndDeleteAsync();
        }
    }

    [Fact]
    public async Task A_devices_malformed_request_is_its_own_problem_not_the_stores_error_sent_to_hq()
    {
        var server = await StoreServer.StartAsync(StoreServer.Clock());
        try
        {
            var (till, _, _) = await server.DeviceAsync("till");
            for (var i = 0; i < 3; i++)
            {
                using var malformed = await till.PostAsync("/api/baskets", new StringContent("{\"till\": ", System.Text.Encoding.UTF8, "application/json"), Ct);
                Assert.Equal(System.Net.HttpStatusCode.BadRequest, malformed.StatusCode);
            }

            // A real error after them: once it is in the log, anything logged before it would be too.
            ScaleLog.Stopped(server.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Outpost.Store.Tests.Scale"), new IOException("gone"), 1);
            await WaitForAsync(server, 1);
            var all = (await server.Log.ReadAsync(0, ReadFilter.ForTopics(TelemetryEvents.Topic), 1000, Ct)).Events
                .Where(e => e.Type == TelemetryEvents.StoreLogged).Select(e => e.Deserialize(TelemetryJsonContext.Default.StoreLoggedV1)).ToList();
            Assert.DoesNotContain(all, e => e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        }
        finally
        {
            await server.DisposeAndDeleteAsync();
        }
    }

    private static async Task<List<StoreLoggedV1>> LoggedAsync(StoreServer server) =>
        [.. (await server.Log.ReadAsync(0, ReadFilter.ForTopics(TelemetryEvents.Topic), 1000, Ct)).Events
            .Where(e => e.Type == TelemetryEvents.StoreLogged && e.Key == TelemetryEvents.LogKey)
            .Select(e => e.Deserialize(TelemetryJsonContext.Default.StoreLoggedV1))
            .Where(e => e.Category == "Outpost.Store.Tests.Scale")];

    private static async Task<List<StoreLoggedV1>> WaitForAsync(StoreServer server, int count)
    {
        var logged = await LoggedAsync(server);
        for (var i = 0; i < 100 && logged.Count < count; i++)
        {
            await Task.Delay(100, Ct);
            logged = await LoggedAsync(server);
        }

        Assert.True(logged.Count >= count, $"{logged.Count} entries went into the log, not {count}");
        return logged;
    }
}

/// <summary>What a scale integration at the store might log.</summary>
internal static partial class ScaleLog
{
    [LoggerMessage(1, LogLevel.Information, "The scale is calibrated.")]
    public static partial void Calibrated(ILogger logger);

    [LoggerMessage(2, LogLevel.Error, "The scale at lane {Lane} stopped answering.")]
    public static partial void Stopped(ILogger logger, Exception exception, int lane);

    [LoggerMessage(3, LogLevel.Warning, "The scale at lane {Lane} is slow ({Attempt}).")]
    public static partial void Slow(ILogger logger, int lane, int attempt);

    [LoggerMessage(4, LogLevel.Warning, "The scale at lane {Lane} answers again.")]
    public static partial void Back(ILogger logger, int lane);
}
