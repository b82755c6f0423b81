using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Central.Rollouts;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Sync.Rollouts;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>
/// Rollouts at HQ with real stores replicating: the desired release goes down wave by wave, the stores' (simulated)
/// agents report up, and the health gate opens the next wave, or halts the rollout when a store rolls back.
/// </summary>
public sealed class RolloutTests
{
    private const string ReleaseToken = ReleaseHq.ReleaseToken;
    private const string OpsToken = ReleaseHq.OpsToken;

    private static readonly TopicCatalog Topics = new([
        .. Cluster.Topics.Declared,
        new TopicPolicy(RolloutEvents.DeployTopic, TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),
        new TopicPolicy(RolloutEvents.ProgressTopic, TopicDirection.Up, TopicPriority.Low, RetentionPolicy.KeepForever),
    ]);

    private static readonly string[] OnlyS1 = ["s1"];
    private static readonly string[] Nowhere = ["nowhere"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rollout_goes_canary_then_region_then_all_halts_when_a_store_rolls_back_and_the_rest_never_receive_it()
    {
        await using var registry = await Registry.StartAsync();
        var digest = await registry.PutImageAsync("outpost", "1.0.1", "1.0.1");
        await using var cluster = await StartAsync(registry);
        var canary = await cluster.StartStoreAsync("s1", "north");
        var north = await cluster.StartStoreAsync("s2", "north");
        var south = await cluster.StartStoreAsync("s3", "south");
        using var admin = ReleaseHq.Client(cluster, ReleaseToken);
        (await admin.PostAsJsonAsync("admin/releases", new { version = "1.0.1", image = $"{registry.Address}/outpost@{digest}" }, Ct)).EnsureSuccessStatusCode();

        using var started = await admin.PostAsJsonAsync("admin/rollouts", new
        {
            release = "1.0.1",
            soakSeconds = 1,
            waves = new object[] { new { name = "canary", stores = OnlyS1 }, new { name = "north", region = "north", percent = 100 }, new { name = "rest", all = true } },
        }, Ct);
        var rollout = await ReadAsync<RolloutView>(started, HttpStatusCode.Created);
        Assert.Equal(["s1"], rollout.Waves[0].Stores.Select(s => s.StoreId));
        Assert.Equal(["s2"], rollout.Waves[1].Stores.Select(s => s.StoreId));
        Assert.Equal(["s3"], rollout.Waves[2].Stores.Select(s => s.StoreId));

        // The canary receives the desired release; the others do not.
        var desired = await DesiredAsync(canary);
        Assert.Equal(("1.0.1", "canary", $"{registry.Address}/outpost@{digest}"), (desired.Version, desired.Wave, desired.Image));
        await ReportAsync(canary, rollout.RolloutId, DeploymentStep.Downloading);
        await Task.Delay(1500, Ct);
        Assert.Null(await DesiredOrNullAsync(north));

        // Healthy for the soak time: the next wave opens.
        await ReportAsync(canary, rollout.RolloutId, DeploymentStep.Healthy);
        Assert.Equal("north", (await DesiredAsync(north)).Wave);

        // A store of that wave rolls back: the rollout halts with its reason, and the last wave never opens.
        await ReportAsync(north, rollout.RolloutId, DeploymentStep.RolledBack, "never became ready within 120 s");
        var halted = await WaitForAsync(admin, rollout.RolloutId, r => r.Status == RolloutStatus.Halted);
        Assert.Equal("s2 rolled back: never became ready within 120 s", halted.Reason);
        Assert.Equal(2, halted.WavesOpened);
        await Task.Delay(2000, Ct);
        Assert.Null(await DesiredOrNullAsync(south));

        // Resumed (the store fixed), the wave turns healthy and the rollout goes on to the end.
        (await admin.PostAsJsonAsync($"admin/rollouts/{rollout.RolloutId}/resume", new { reason = "s2's disk replaced" }, Ct)).EnsureSuccessStatusCode();
        await ReportAsync(north, rollout.RolloutId, DeploymentStep.Healthy);
        Assert.Equal("rest", (await DesiredAsync(south)).Wave);
        await ReportAsync(south, rollout.RolloutId, DeploymentStep.Healthy);
        var done = await WaitForAsync(admin, rollout.RolloutId, r => r.Status == RolloutStatus.Completed);
        Assert.All(done.Waves, w => Assert.Equal(w.Stores.Count, w.Healthy));
    }

    [Fact]
    public async Task A_rollout_that_is_not_an_admins_to_start_names_no_release_or_no_store_or_overlaps_another_is_refused_and_nothing_goes_down()
    {
        await using var registry = await Registry.StartAsync();
        var digest = await registry.PutImageAsync("outpost", "1.0.1", "1.0.1");
        await using var cluster = await StartAsync(registry);
        var store = await cluster.StartStoreAsync("s1", "north");
        using var admin = ReleaseHq.Client(cluster, ReleaseToken);
        using var ops = ReleaseHq.Client(cluster, OpsToken);
        (await admin.PostAsJsonAsync("admin/releases", new { version = "1.0.1", image = $"{registry.Address}/outpost@{digest}" }, Ct)).EnsureSuccessStatusCode();
        var canary = new[] { new { name = "canary", stores = OnlyS1 } };

        await Refused(ops, new { release = "1.0.1", waves = canary }, HttpStatusCode.Forbidden, "release admins");
        await Refused(admin, new { release = "9.9.9", waves = canary }, HttpStatusCode.BadRequest, "'9.9.9' is not one");
        await Refused(admin, new { release = "1.0.1", waves = new[] { new { name = "canary", stores = Nowhere } } }, HttpStatusCode.BadRequest, "not registered");
        await Refused(admin, new { release = "1.0.1", waves = new[] { new { name = "east", region = "east", percent = 50 } } }, HttpStatusCode.BadRequest, "names no store");
        await Refused(admin, new { release = "1.0.1", waves = Array.Empty<object>() }, HttpStatusCode.BadRequest, "'waves' is required");
        await Refused(admin, new { release = "1.0.1", waves = canary, windowStart = "25:00", windowEnd = "05:00" }, HttpStatusCode.BadRequest, "HH:mm");
        using (var none = await admin.GetAsync("admin/rollouts", Ct))
        {
            Assert.Empty(await ReadAsync<List<RolloutView>>(none, HttpStatusCode.OK));
        }

        var first = await ReadAsync<RolloutView>(await admin.PostAsJsonAsync("admin/rollouts", new { release = "1.0.1", waves = canary, windowStart = "02:00", windowEnd = "05:00" }, Ct),
            HttpStatusCode.Created);
        Assert.Equal(new MaintenanceWindow(new TimeOnly(2, 0), new TimeOnly(5, 0)), (await DesiredAsync(store)).Window);
        await Refused(admin, new { release = "1.0.1", waves = canary }, HttpStatusCode.Conflict, "complete or abort it first");
        using var haltByOps = await ops.PostAsJsonAsync($"admin/rollouts/{first.RolloutId}/halt", new { reason = "no" }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, haltByOps.StatusCode);
        var aborted = await ReadAsync<RolloutView>(await admin.PostAsJsonAsync($"admin/rollouts/{first.RolloutId}/abort", new { reason = "wrong week" }, Ct), HttpStatusCode.OK);
        Assert.Equal((RolloutStatus.Aborted, "wrong week"), (aborted.Status, aborted.Reason));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"admin/rollouts/{first.RolloutId}/resume", new { }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("admin/rollouts/nope/halt", new { }, Ct)).StatusCode);
    }

    private static async Task<Cluster> StartAsync(Registry registry) =>
        await ReleaseHq.StartAsync(registry, Topics, options => options.RolloutInterval = TimeSpan.FromMilliseconds(200));

    private static Task Refused(HttpClient client, object body, HttpStatusCode status, string says) => ReleaseHq.RefusedAsync(client, "admin/rollouts", body, status, says);

    private static async Task ReportAsync(StoreNode store, string rolloutId, DeploymentStep step, string? reason = null) =>
        await store.Log.AppendAsync(new NewEvent
        {
            Topic = RolloutEvents.ProgressTopic,
            Type = RolloutEvents.DeploymentProgressed,
            Key = rolloutId,
            Scope = Scope.Store(store.StoreId),
            Payload = NewEvent.Json(new DeploymentProgressedV1(rolloutId, "1.0.1", step, reason), RolloutJsonContext.Default.DeploymentProgressedV1),
        }, Ct);

    private static async Task<DesiredReleaseV1?> DesiredOrNullAsync(StoreNode store)
    {
        var events = await store.Log.ReadAllAsync(new ReadFilter { Topics = [RolloutEvents.DeployTopic] }, cancellationToken: Ct);
        return events.Count == 0 ? null : events[^1].Deserialize(RolloutJsonContext.Default.DesiredReleaseV1);
    }

    private static async Task<DesiredReleaseV1> DesiredAsync(StoreNode store)
    {
        DesiredReleaseV1? desired = null;
        Assert.True(await Cluster.EventuallyAsync(async () => (desired = await DesiredOrNullAsync(store)) is not null, TimeSpan.FromSeconds(20)),
            $"{store.StoreId} never received its desired release");
        return desired!;
    }

    private static async Task<RolloutView> WaitForAsync(HttpClient admin, string id, Func<RolloutView, bool> condition)
    {
        RolloutView? view = null;
        var reached = await Cluster.EventuallyAsync(async () =>
        {
            view = (await admin.GetFromJsonAsync<List<RolloutView>>("admin/rollouts", Json, Ct))!.Single(r => r.RolloutId == id);
            return condition(view);
        }, TimeSpan.FromSeconds(20));
        Assert.True(reached, $"rollout {id} did not reach the expected state: {JsonSerializer.Serialize(view, Json)}");
        return view!;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
            return JsonSerializer.Deserialize<T>(text, Json)!;
        }
    }
}
