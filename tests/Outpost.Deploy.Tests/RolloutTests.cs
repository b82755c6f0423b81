using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.EndToEnd.Tests;
using Outpost.Testing;
using static Microsoft.Playwright.Assertions;

namespace Outpost.Deploy.Tests;

/// <summary>
/// Rollouts for real: HQ, a registry and three stores on this machine, each store a store server played from the
/// manifests under podman (with its own image store) and a deploy agent beside it. Two real builds (1.0.0, 1.0.1), a
/// broken 1.0.2 and a configuration-only 1.0.1-config.1; tills sell at every store throughout.
/// </summary>
[Collection(Containers.Name)]
public sealed class RolloutTests(Images images, Browser browser) : IClassFixture<Browser>
{
    private const string AdminToken = "rollout-test-admin-token";
    private const string HqUrl = "http://127.0.0.1:5080";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_release_goes_canary_then_the_rest_while_tills_sell_a_cut_store_converges_a_broken_one_rolls_back_at_the_canary_and_settings_change_without_a_restart()
    {
        Assert.NotEmpty(images.OutpostDigest);
        await using var registry = await Registry.StartAsync();
        var v100 = await Images.PushAsync(registry, Images.Outpost, Images.Version);
        var v101 = await Images.PushAsync(registry, await images.NextAsync(), Images.NextVersion);
        var v102 = await Images.PushAsync(registry, await images.BrokenAsync(), Images.BrokenVersion);

        await using var hq = await Container.RunAsync("outpost-rollout-hq", [], "central", "--data", "/data", "--urls", HqUrl,
            "--admin", $"ops={AdminToken}", "--release-admin", "ops", "--insecure-registry", registry.Address);
        await Fleet.WaitReadyAsync(HqUrl, TimeSpan.FromSeconds(60), hq.LogsAsync);
        using var admin = Fleet.Client(HqUrl, AdminToken);
        await Fleet.PublishPriceAsync(admin, Fleet.Cola, "Cola 1.5L", 1.50m);

        // Three stores on 1.0.0; the third reaches HQ through a link the test cuts.
        await using var cutLink = new Outpost.Sync.Faults.FaultProxy(new Uri(HqUrl)); // the demo's and the benchmarks' pulled plug
        var sites = new List<StoreSite>();
        var tills = new List<Tills>();
        using var stop = new CancellationTokenSource();
        var selling = new List<Task>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                var storeId = $"rollout-{i}";
                var secret = await Fleet.RegisterStoreAsync(admin, storeId, "north");
                var central = i == 3 ? cutLink.Address.ToString() : HqUrl + "/";
                var site = await StoreSite.StartAsync(storeId, 5090 + i, v100, central, secret, AdminToken, registry.Address);
                sites.Add(site);
                using var storeAdmin = Fleet.Client(site.Url, AdminToken);
                site.StartAgent(images.Binary, await Fleet.EnrolAsync(storeAdmin, "deploy agent", "agent"), registry.Address, soakSeconds: 5);
                var tokens = new[] { await Fleet.EnrolAsync(storeAdmin, "till 1", "till"), await Fleet.EnrolAsync(storeAdmin, "till 2", "till") };
                using var priceCheck = Fleet.Client(site.Url, tokens[0]);
                await Fleet.WaitForPriceAsync(priceCheck, Fleet.Cola, 1.50m, TimeSpan.FromSeconds(60));
                var till = new Tills(site.Url, tokens, Fleet.Cola);
                tills.Add(till);
                selling.Add(till.RunAsync(TimeSpan.FromMinutes(12), stop.Token));
            }

            foreach (var site in sites)
            {
                Assert.Equal(Images.Version, await VersionAsync(site));
            }

            // 1.0.1: canary, then the rest. The third store's link is down when the rollout starts.
            cutLink.Mode = Outpost.Sync.Faults.ProxyMode.Reset;
            await RecordAsync(admin, Images.NextVersion, v101);
            var first = await StartRolloutAsync(admin, Images.NextVersion, sites[0].StoreId);
            await WaitForStepAsync(admin, first, sites[1].StoreId, "Healthy", sites);
            var waiting = await RolloutAsync(admin, first);
            Assert.Equal("Running", waiting.GetProperty("status").GetString()); // the second wave waits for the cut store
            Assert.Equal(Images.Version, await VersionAsync(sites[2]));
            cutLink.Mode = Outpost.Sync.Faults.ProxyMode.Pass;
            await WaitForStatusAsync(admin, first, "Completed", TimeSpan.FromMinutes(4), sites);
            foreach (var site in sites)
            {
                Assert.Equal(Images.NextVersion, await VersionAsync(site));
            }

            // 1.0.2 never starts: the canary rolls itself back to 1.0.1 and the rollout halts; the others never download it.
            await RecordAsync(admin, Images.BrokenVersion, v102);
            var second = await StartRolloutAsync(admin, Images.BrokenVersion, sites[0].StoreId);
            var halted = await WaitForStatusAsync(admin, second, "Halted", TimeSpan.FromMinutes(4), sites);
            var reason = halted.GetProperty("reason").GetString()!;
            Assert.StartsWith($"{sites[0].StoreId} rolled back:", reason, StringComparison.Ordinal);
            Assert.Contains("1.0.1 restored", reason, StringComparison.Ordinal);
            Assert.Equal(Images.NextVersion, await VersionAsync(sites[0]));
            Assert.True(await sites[0].HasImageAsync(v102), "the canary never pulled 1.0.2");
            Assert.False(await sites[1].HasImageAsync(v102), "a store outside the canary pulled 1.0.2");
            Assert.False(await sites[2].HasImageAsync(v102), "a store outside the canary pulled 1.0.2");

            // The fleet page shows the halt and why.
            var context = await browser.Instance.NewContextAsync(new() { BaseURL = HqUrl, ViewportSize = new() { Width = 1400, Height = 900 } });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/fleet.html");
            await page.FillAsync("#token", AdminToken);
            await page.ClickAsync("#login button");
            var shown = page.Locator($"article.rollout[data-rollout='{second}']");
            await Expect(shown).ToHaveAttributeAsync("data-status", "Halted", new() { Timeout = 20_000 });
            await Expect(shown.Locator(".reason")).ToHaveTextAsync(reason);
            await Browser.ShotAsync(page, "rollout-real-halted");
            await context.CloseAsync();

            // A configuration-only release (1.0.1's image, a new floor limit) goes in force at every store without a restart.
            using (var aborted = await admin.PostAsJsonAsync($"admin/rollouts/{second}/abort", new { reason = "1.0.2 withdrawn" }, Ct))
            {
                Assert.True(aborted.IsSuccessStatusCode, await aborted.Content.ReadAsStringAsync(Ct));
            }

            var startedAt = new List<string>();
            foreach (var site in sites)
            {
                startedAt.Add(await HealthAsync(site, "startedAt"));
            }

            using (var recorded = await admin.PostAsJsonAsync("admin/releases",
                new { version = "1.0.1-config.1", image = v101, settings = new Dictionary<string, object> { ["Retail:Checkout:OfflineFloorLimit"] = 75 } }, Ct))
            {
                Assert.True(recorded.IsSuccessStatusCode, await recorded.Content.ReadAsStringAsync(Ct));
            }

            var third = await StartRolloutAsync(admin, "1.0.1-config.1", sites[0].StoreId);
            await WaitForStatusAsync(admin, third, "Completed", TimeSpan.FromMinutes(3), sites);
            for (var i = 0; i < sites.Count; i++)
            {
                Assert.Equal(startedAt[i], await HealthAsync(sites[i], "startedAt")); // the same store server process
                using var client = Fleet.Client(sites[i].Url, AdminToken);
                using var settings = JsonDocument.Parse(await client.GetStringAsync("api/deploy/settings", Ct));
                Assert.Equal("75", settings.RootElement.GetProperty("settings").GetProperty("Retail:Checkout:OfflineFloorLimit").GetString());
            }

            // Every sale the tills hold a receipt for reached HQ, once.
            await stop.CancelAsync();
            await Task.WhenAll(selling);
            for (var i = 0; i < sites.Count; i++)
            {
                Assert.False(tills[i].Acknowledged.IsEmpty, $"{sites[i].StoreId}: no sale was made during the rollouts");
                Assert.True(tills[i].GaveUp.IsEmpty, $"{sites[i].StoreId}: the tills gave up on sales the store kept refusing: {string.Join(", ", tills[i].GaveUp)}");
                var atHq = 0L;
                for (var attempt = 0; attempt < 600 && atHq < tills[i].Acknowledged.Count; attempt++)
                {
                    atHq = await Fleet.SalesAtHqAsync(admin, sites[i].StoreId);
                    await Task.Delay(atHq < tills[i].Acknowledged.Count ? 100 : 0, Ct);
                }

                await Task.Delay(1000, Ct);
                Assert.Equal(tills[i].Acknowledged.Count, await Fleet.SalesAtHqAsync(admin, sites[i].StoreId));
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var site in sites)
            {
                await site.DisposeAsync();
            }
        }
    }


    private static Task<string> VersionAsync(StoreSite site) => HealthAsync(site, "version");

    private static async Task<string> HealthAsync(StoreSite site, string property)
    {
        using var client = Fleet.Client(site.Url, AdminToken);
        using var health = JsonDocument.Parse(await client.GetStringAsync("api/deploy/health", Ct));
        return health.RootElement.GetProperty(property).ToString();
    }

    private static async Task RecordAsync(HttpClient admin, string version, string image)
    {
        using var response = await admin.PostAsJsonAsync("admin/releases", new { version, image }, Ct);
        Assert.True(response.IsSuccessStatusCode, $"recording {version}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
    }

    private static async Task<string> StartRolloutAsync(HttpClient admin, string version, string canary)
    {
        using var response = await admin.PostAsJsonAsync("admin/rollouts", new
        {
            release = version,
            waves = new object[] { new { name = "canary", stores = new[] { canary } }, new { name = "rest", all = true } },
            soakSeconds = 5,
            force = true,
        }, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"starting the rollout of {version}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("rolloutId").GetString()!;
    }

    private static async Task<JsonElement> RolloutAsync(HttpClient admin, string id)
    {
        using var list = JsonDocument.Parse(await admin.GetStringAsync("admin/rollouts", Ct));
        return list.RootElement.EnumerateArray().Single(r => r.GetProperty("rolloutId").GetString() == id).Clone();
    }

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient admin, string id, string status, TimeSpan limit, List<StoreSite> sites)
    {
        var clock = Stopwatch.StartNew();
        JsonElement rollout;
        do
        {
            rollout = await RolloutAsync(admin, id);
            if (rollout.GetProperty("status").GetString() == status)
            {
                return rollout;
            }

            await Task.Delay(500, Ct);
        }
        while (clock.Elapsed < limit);

        Assert.Fail($"rollout {id} not {status} within {limit.TotalSeconds:0} s: {rollout}{Environment.NewLine}{await DiagnoseAsync(sites)}");
        return rollout;
    }

    private static async Task WaitForStepAsync(HttpClient admin, string id, string storeId, string step, List<StoreSite> sites)
    {
        var clock = Stopwatch.StartNew();
        JsonElement rollout;
        do
        {
            rollout = await RolloutAsync(admin, id);
            var stores = rollout.GetProperty("waves").EnumerateArray().SelectMany(w => w.GetProperty("stores").EnumerateArray());
            if (stores.Any(s => s.GetProperty("storeId").GetString() == storeId && s.GetProperty("step").GetString() == step))
            {
                return;
            }

            await Task.Delay(500, Ct);
        }
        while (clock.Elapsed < TimeSpan.FromMinutes(4));

        Assert.Fail($"{storeId} not {step} in rollout {id}: {rollout}{Environment.NewLine}{await DiagnoseAsync(sites)}");
    }

    private static async Task<string> DiagnoseAsync(List<StoreSite> sites)
    {
        var text = new System.Text.StringBuilder();
        foreach (var site in sites)
        {
            text.AppendLine(await site.DiagnoseAsync());
        }

        return text.ToString();
    }
}
