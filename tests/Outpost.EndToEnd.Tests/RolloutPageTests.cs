using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Central;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Sync.Hosting;
using Outpost.Sync.Rollouts;
using Outpost.Testing;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

/// <summary>The fleet page's rollouts in a real browser: a halt and its reason, per wave and store, and the admin's actions.</summary>
public sealed class RolloutPageTests(Browser browser) : IClassFixture<Browser>
{
    private const string Token = "hq-release-admin";
    private static readonly string[] Canary = ["store-a"];
    private static readonly string[] AdminActions = ["RolloutResumed", "RolloutAborted"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_fleet_page_shows_a_rollout_halted_by_its_canary_with_the_reason_and_resumes_and_aborts_it()
    {
        await using var registry = await Registry.StartAsync();
        var digest = await registry.PutImageAsync("outpost", "1.0.2", "1.0.2");
        var hq = await StartHqAsync(registry);
        try
        {

            using var admin = new HttpClient { BaseAddress = hq.Address() };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            (await admin.PostAsJsonAsync("admin/releases", new { version = "1.0.2", image = $"{registry.Address}/outpost@{digest}" }, Ct)).EnsureSuccessStatusCode();
            using var started = await admin.PostAsJsonAsync("admin/rollouts", new
            {
                release = "1.0.2", soakSeconds = 1, waves = new object[] { new { name = "canary", stores = Canary }, new { name = "rest", all = true } },
            }, Ct);
            started.EnsureSuccessStatusCode();
            var rolloutId = JsonDocument.Parse(await started.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("rolloutId").GetString()!;

            // The canary's agent reports, through its store's link, that 1.0.2 never became ready and it went back.
            var log = hq.Services.GetRequiredService<IEventLog>();
            var seq = 0;
            foreach (var (step, reason) in new[] { (DeploymentStep.Downloading, (string?)null), (DeploymentStep.Starting, null), (DeploymentStep.RolledBack, "never became ready within 120 s") })
            {
                await log.AppendAsync(new NewEvent
                {
                    Topic = RolloutEvents.ProgressTopic, Type = RolloutEvents.DeploymentProgressed, Key = rolloutId, Scope = Scope.Store("store-a"),
                    Origin = new EventOrigin(NodeId.Parse("store-a"), ++seq, HlcTimestamp.From(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), seq)),
                    Payload = NewEvent.Json(new DeploymentProgressedV1(rolloutId, "1.0.2", step, reason), RolloutJsonContext.Default.DeploymentProgressedV1),
                }, Ct);
            }

            var context = await browser.Instance.NewContextAsync(new() { BaseURL = hq.Address().ToString(), ViewportSize = new() { Width = 1400, Height = 900 } });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/fleet.html");
            await page.FillAsync("#token", Token);
            await page.ClickAsync("#login button");
            var rollout = page.Locator($"article.rollout[data-rollout='{rolloutId}']");
            await Expect(rollout).ToHaveAttributeAsync("data-status", "Halted", new() { Timeout = 20_000 });
            await Expect(rollout.Locator(".reason")).ToHaveTextAsync("store-a rolled back: never became ready within 120 s");
            await Expect(rollout.Locator("tr[data-wave='canary']")).ToContainTextAsync("1 rolled back");
            await Expect(rollout.Locator("tr[data-wave='rest']")).ToContainTextAsync("waiting");
            await Expect(rollout.Locator(".stuck")).ToContainTextAsync("store-a (RolledBack: never became ready within 120 s)");
            await Browser.ShotAsync(page, "hq-rollout-halted");

            await rollout.Locator(".action-reason").FillAsync("canary disk replaced");
            await rollout.Locator("button[data-action=resume]").ClickAsync();
            await Expect(rollout).ToHaveAttributeAsync("data-status", "Running");
            await rollout.Locator(".action-reason").FillAsync("1.0.3 instead");
            await rollout.Locator("button[data-action=abort]").ClickAsync();
            await Expect(rollout).ToHaveAttributeAsync("data-status", "Aborted");
            await Expect(rollout.Locator(".reason")).ToHaveTextAsync("1.0.3 instead");
            await Expect(rollout.Locator("button")).ToHaveCountAsync(0);
            await context.CloseAsync();

            // Both actions are in the audit trail (a read model a moment behind the log), by name.
            var audited = false;
            for (var i = 0; i < 100 && !audited; i++)
            {
                using var audit = JsonDocument.Parse(await admin.GetStringAsync("admin/audit", Ct));
                audited = AdminActions.All(type =>
                    audit.RootElement.EnumerateArray().Any(e => e.GetProperty("type").GetString() == type && e.GetProperty("actor").GetString() == "release"));
                await Task.Delay(audited ? 0 : 100, Ct);
            }

            Assert.True(audited, "the audit trail never listed the resume and the abort by 'release'");
        }
        finally
        {
            await hq.StopAsync(CancellationToken.None);
            await hq.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_release_admin_records_a_release_and_starts_a_rollout_in_waves_from_the_fleet_page_and_bad_input_is_refused_in_words()
    {
        await using var registry = await Registry.StartAsync();
        var digest = await registry.PutImageAsync("outpost", "1.0.3", "1.0.3");
        var hq = await StartHqAsync(registry);
        try
        {

            var context = await browser.Instance.NewContextAsync(new() { BaseURL = hq.Address().ToString(), ViewportSize = new() { Width = 1400, Height = 1000 } });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/fleet.html");
            await page.FillAsync("#token", Token);
            await page.ClickAsync("#login button");

            // An unknown setting: refused in words, nothing recorded.
            var release = page.Locator("#release");
            await release.Locator("[name=version]").FillAsync("1.0.3");
            await release.Locator("[name=image]").FillAsync($"{registry.Address}/outpost@{digest}");
            await release.Locator("[name=settings]").FillAsync("""{"Retail:Checkout:NoSuchLimit": 75}""");
            await release.Locator("button").ClickAsync();
            await Expect(page.Locator("#error")).ToContainTextAsync("'Retail:Checkout:NoSuchLimit' is not a setting a release can change");
            using var admin = new HttpClient { BaseAddress = hq.Address() };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            Assert.Equal(0, JsonDocument.Parse(await admin.GetStringAsync("admin/releases", Ct)).RootElement.GetArrayLength());

            await release.Locator("[name=settings]").FillAsync("""{"Retail:Checkout:OfflineFloorLimit": 75}""");
            await release.Locator("button").ClickAsync();
            await Expect(page.Locator("#release-done")).ToHaveTextAsync("Release 1.0.3 recorded by release.");

            var rollout = page.Locator("#rollout");
            await rollout.Locator("[name=release]").FillAsync("1.0.3");
            await rollout.Locator("[name=waves]").FillAsync("canary: store-a\nnorth: region north\neveryone: all");
            await rollout.Locator("[name=soak]").FillAsync("1");
            await rollout.Locator("[name=force]").CheckAsync();
            await rollout.Locator("button").ClickAsync();
            await Expect(page.Locator("#release-done")).ToContainTextAsync("of 1.0.3 started.");
            var shown = page.Locator("article.rollout[data-status='Running']");
            await Expect(shown.Locator("tr[data-wave]")).ToHaveCountAsync(3);
            await Expect(shown.Locator("tr[data-wave='canary']")).ToContainTextAsync("0 / 1");
            await Expect(shown.Locator("tr[data-wave='north']")).ToContainTextAsync("0 / 1"); // store-b: store-a is the canary's
            await Expect(shown.Locator("tr[data-wave='everyone']")).ToContainTextAsync("0 / 1");
            await Browser.ShotAsync(page, "hq-rollout-started");

            using var list = JsonDocument.Parse(await admin.GetStringAsync("admin/rollouts", Ct));
            var started = Assert.Single(list.RootElement.EnumerateArray());
            Assert.Equal("release", started.GetProperty("startedBy").GetString());
            Assert.Null(started.GetProperty("window").GetString()); // forced: now
            await context.CloseAsync();
        }
        finally
        {
            await hq.StopAsync(CancellationToken.None);
            await hq.DisposeAsync();
        }
    }

    /// <summary>HQ in process with a release admin, the test's registry, a quick gate, and stores a and b (north) and c (south).</summary>
    private static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartHqAsync(Registry registry)
    {
        var options = new CentralOptions
        {
            DataDirectory = Path.Combine(Path.GetTempPath(), "outpost-e2e-rollout", Guid.NewGuid().ToString("N")), Urls = "http://127.0.0.1:0",
            Topics = RetailTopics.Catalog, RolloutInterval = TimeSpan.FromMilliseconds(200),
        };
        options.AdminTokens["release"] = Token;
        options.ReleaseAdmins.Add("release");
        options.InsecureRegistries.Add(registry.Address);
        var hq = CentralHost.Build(options);
        await hq.StartAsync(Ct);
        var stores = hq.Services.GetRequiredService<StoreDirectory>();
        foreach (var (store, region) in new[] { ("store-a", "north"), ("store-b", "north"), ("store-c", "south") })
        {
            await stores.RegisterAsync(store, region, Ct);
        }

        return hq;
    }
}
