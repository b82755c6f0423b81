using Outpost.Retail.Checkout;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Hosting;
using Outpost.Sync.Rollouts;

namespace Outpost.Store.Tests;

/// <summary>The store's side of rollouts: its deploy agent reads the release HQ wants here and reports its steps into the log.</summary>
[Collection(OneHostMetrics.Name)]
public sealed class DeployApiTests : IAsyncLifetime
{
    private StoreServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await StoreServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAndDeleteAsync();

    [Fact]
    public async Task The_agent_reads_the_desired_release_that_came_down_and_its_reports_go_into_the_log_for_hq()
    {
        var (agent, _, _) = await _server.DeviceAsync("agent");
        var before = await ReadAsync(await agent.GetAsync("/api/deploy/desired", Ct));
        Assert.Equal(JsonValueKind.Null, before.GetProperty("desired").ValueKind);

        await ArriveAsync(new DesiredReleaseV1("r1", "1.0.1", "registry.example.com/outpost@sha256:" + new string('a', 64),
            new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "75" }, "canary", new MaintenanceWindow(new TimeOnly(2, 0), new TimeOnly(5, 0))));
        var desired = (await ReadAsync(await agent.GetAsync("/api/deploy/desired", Ct))).GetProperty("desired");
        Assert.Equal(("r1", "1.0.1", "canary", "02:00:00"), (desired.GetProperty("rolloutId").GetString(), desired.GetProperty("version").GetString(),
            desired.GetProperty("wave").GetString(), desired.GetProperty("window").GetProperty("start").GetString()));

        using var report = await agent.PostAsJsonAsync("/api/deploy/progress", new { rolloutId = "r1", version = "1.0.1", step = "RolledBack", reason = "never ready" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, report.StatusCode);
        var reported = Assert.Single(await _server.Log.ReadAllAsync(new ReadFilter { Topics = [RolloutEvents.ProgressTopic] }, cancellationToken: Ct));
        Assert.Equal(Scope.Store(_server.App.Services.GetRequiredService<StoreOptions>().StoreId), reported.Scope);
        Assert.Equal(new DeploymentProgressedV1("r1", "1.0.1", DeploymentStep.RolledBack, "never ready"),
            reported.Deserialize(RolloutJsonContext.Default.DeploymentProgressedV1));
        Assert.Equal("RolledBack", (await ReadAsync(await agent.GetAsync("/api/deploy/desired", Ct))).GetProperty("lastReport").GetProperty("step").GetString());
    }

    [Fact]
    public async Task The_agent_sees_the_store_process_version_since_when_ready_and_its_data_version_and_its_server_errors_in_its_metrics()
    {
        var (agent, _, _) = await _server.DeviceAsync("agent");
        var (till, _, _) = await _server.DeviceAsync("till");
        var first = await ReadAsync(await agent.GetAsync("/api/deploy/health", Ct));
        Assert.Matches(@"^\d+\.\d+\.\d+", first.GetProperty("version").GetString());
        Assert.True(first.GetProperty("ready").GetBoolean());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("link").ValueKind); // this store runs without HQ
        Assert.Equal(1, first.GetProperty("dataVersion").GetInt32()); // the log file's schema version
        var started = first.GetProperty("startedAt").GetDateTimeOffset();

        // Requests are counted in /metrics as answered, a server error (5xx) apart: a till's 4xx is the till's mistake, not the version's.
        var before = ServerMetrics.Parse(await agent.GetStringAsync("/metrics", Ct));
        Assert.Equal(HttpStatusCode.NotFound, (await till.GetAsync("/api/products/0000000000000", Ct)).StatusCode);
        var after = ServerMetrics.Parse("");
        for (var i = 0; i < 50 && after.Requests < 2; i++)
        {
            await Task.Delay(100, Ct); // the exporter answers a scrape from a copy kept 300 ms
            after = ServerMetrics.Parse(await agent.GetStringAsync("/metrics", Ct)).Since(before);
        }

        Assert.True(after.Requests >= 2, $"{after.Requests} requests counted");
        Assert.Equal(0, after.ServerErrors);
        Assert.Equal(started, (await ReadAsync(await agent.GetAsync("/api/deploy/health", Ct))).GetProperty("startedAt").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.Forbidden, (await till.GetAsync("/api/deploy/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task Checkout_settings_go_in_force_without_a_restart_and_survive_one_while_others_ask_for_a_restart_and_bad_ones_are_refused()
    {
        var (agent, _, _) = await _server.DeviceAsync("agent");
        var checkout = () => _server.App.Services.GetRequiredService<StoreServices>().Retail.Checkout.Options;
        Assert.Equal(50m, checkout().OfflineFloorLimit);
        var applied = await ReadAsync(await agent.PutAsJsonAsync("/api/deploy/settings",
            new { version = "1.0.1-config.1", settings = new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "75", ["Retail:Checkout:MaxLines"] = "200", ["Retail:Checkout:EventVersions"] = "Previous" } }, Ct));
        Assert.Equal("75", applied.GetProperty("settings").GetProperty("Retail:Checkout:OfflineFloorLimit").GetString());
        Assert.Equal("Previous", applied.GetProperty("settings").GetProperty("Retail:Checkout:EventVersions").GetString());
        Assert.Equal((75m, 200, EventVersions.Previous), (checkout().OfflineFloorLimit, checkout().MaxLines, checkout().EventVersions));
        Assert.Equal(30m, checkout().MaxRefundWithoutReceipt); // what the release does not set stays as the store started

        // Read at start-up only: the agent is told to restart; nothing changes. A value not of its type: 400.
        using (var later = await agent.PutAsJsonAsync("/api/deploy/settings",
            new { version = "1.0.1-config.2", settings = new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "80", ["Retail:Loyalty:PointsPerUnit"] = "2" } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, later.StatusCode);
            Assert.Contains("Retail:Loyalty:PointsPerUnit", await later.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PutAsJsonAsync("/api/deploy/settings",
            new { version = "1.0.1-config.3", settings = new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "lots" } }, Ct)).StatusCode);
        Assert.Equal(75m, checkout().OfflineFloorLimit);

        // The same container restarted keeps them.
        var directory = _server.Directory;
        await _server.DisposeAsync();
        _server = await StoreServer.StartAsync(directory: directory);
        Assert.Equal((75m, 200), (_server.App.Services.GetRequiredService<StoreServices>().Retail.Checkout.Options.OfflineFloorLimit,
            _server.App.Services.GetRequiredService<StoreServices>().Retail.Checkout.Options.MaxLines));
        var (backOffice, _, _) = await _server.DeviceAsync("backoffice");
        Assert.Equal("1.0.1-config.1", (await ReadAsync(await backOffice.GetAsync("/api/deploy/settings", Ct))).GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_report_from_a_device_that_is_not_the_agent_or_on_another_release_or_without_a_step_is_refused_and_logs_nothing()
    {
        var (agent, _, _) = await _server.DeviceAsync("agent");
        var (till, _, _) = await _server.DeviceAsync("till");
        using (var none = await agent.PostAsJsonAsync("/api/deploy/progress", new { rolloutId = "r1", version = "1.0.1", step = "Healthy" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, none.StatusCode);
        }

        await ArriveAsync(new DesiredReleaseV1("r1", "1.0.1", "registry.example.com/outpost@sha256:" + new string('a', 64), new Dictionary<string, string>(), "canary", null));
        Assert.Equal(HttpStatusCode.Forbidden, (await till.PostAsJsonAsync("/api/deploy/progress", new { rolloutId = "r1", version = "1.0.1", step = "Healthy" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await till.GetAsync("/api/deploy/desired", Ct)).StatusCode);
        using (var stale = await agent.PostAsJsonAsync("/api/deploy/progress", new { rolloutId = "r0", version = "1.0.0", step = "Healthy" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
            Assert.Contains("is asked to run 1.0.1", await stale.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PostAsJsonAsync("/api/deploy/progress", new { rolloutId = "r1", version = "1.0.1" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PostAsJsonAsync("/api/deploy/progress", new { rolloutId = "r1", version = "1.0.1", step = "Healthy", reason = new string('x', 501) }, Ct)).StatusCode);
        Assert.Empty(await _server.Log.ReadAllAsync(new ReadFilter { Topics = [RolloutEvents.ProgressTopic] }, cancellationToken: Ct));
    }

    /// <summary>What HQ's down feed appends at the store when a wave opens.</summary>
    private async Task ArriveAsync(DesiredReleaseV1 desired)
    {
        var storeId = _server.App.Services.GetRequiredService<StoreOptions>().StoreId;
        await _server.Log.AppendAsync(new NewEvent
        {
            Topic = RolloutEvents.DeployTopic,
            Type = RolloutEvents.DesiredRelease,
            Key = storeId,
            Scope = Scope.Store(storeId),
            Payload = NewEvent.Json(desired, RolloutJsonContext.Default.DesiredReleaseV1),
        }, Ct);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }
    }
}
