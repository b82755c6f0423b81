using System.Diagnostics;
using Outpost.EndToEnd.Tests;
using static Microsoft.Playwright.Assertions;

namespace Outpost.Deploy.Tests;

/// <summary>
/// A store container under load from simulated tills is stopped (SIGTERM) and started again, then killed (SIGKILL) and
/// restarted by its restart policy: every sale a till holds a receipt for is in the store's log and at HQ exactly once.
/// </summary>
[Collection(Containers.Name)]
public sealed class GracefulStopTests(Images images, Browser browser) : IClassFixture<Browser>
{
    private const string StoreId = "store-101";
    private const string AdminToken = "deploy-test-admin";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_container_stopped_then_killed_under_load_keeps_every_acknowledged_sale_once_and_its_pages_reconnect()
    {
        Assert.NotEmpty(images.OutpostDigest);
        var hqUrl = $"http://127.0.0.1:{Fleet.FreePort()}";
        var storeUrl = $"http://127.0.0.1:{Fleet.FreePort()}";
        await using var hq = await Container.RunAsync("outpost-test-hq", ["-e", $"OUTPOST_ADMIN_TOKEN={AdminToken}"], "central", "--data", "/data", "--urls", hqUrl);
        await Fleet.WaitReadyAsync(hqUrl, TimeSpan.FromSeconds(60), hq.LogsAsync);
        using var hqAdmin = Fleet.Client(hqUrl, AdminToken);
        var secret = await Fleet.RegisterStoreAsync(hqAdmin, StoreId, "north");
        await Fleet.PublishPriceAsync(hqAdmin, Fleet.Cola, "Cola 1.5L", 1.50m);

        await using var store = await Container.RunAsync("outpost-test-store",
            ["--restart=always", "-e", $"OUTPOST_STORE_StoreId={StoreId}", "-e", "OUTPOST_STORE_Region=north", "-e", "OUTPOST_STORE_TimeZone=Europe/Paris",
             "-e", $"OUTPOST_STORE_Central={hqUrl}/", "-e", $"OUTPOST_STORE_SECRET={secret}", "-e", $"OUTPOST_STORE_AdminToken={AdminToken}",
             "-e", $"OUTPOST_STORE_Urls={storeUrl}", "--stop-timeout", "30"],
            "store");
        await Fleet.WaitReadyAsync(storeUrl, TimeSpan.FromSeconds(60), store.LogsAsync);
        using var storeAdmin = Fleet.Client(storeUrl, AdminToken);
        var tokens = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            tokens.Add(await Fleet.EnrolAsync(storeAdmin, $"till {i}", "till"));
        }

        using var priceCheck = Fleet.Client(storeUrl, tokens[0]);
        await Fleet.WaitForPriceAsync(priceCheck, Fleet.Cola, 1.50m, TimeSpan.FromSeconds(60));
        var (context, page) = await browser.DeviceAsync(new Uri(storeUrl + "/"), AdminToken, "till", "till.html");
        await Expect(page.Locator("body[data-live='on']")).ToHaveCountAsync(1);

        var tills = new Tills(storeUrl, tokens, Fleet.Cola);
        using var stop = new CancellationTokenSource();
        var selling = tills.RunAsync(TimeSpan.FromMinutes(4), stop.Token);
        await WhileSellingAsync(tills, 20);

        // SIGTERM: requests in flight finish, the log closes (its WAL checkpointed into the file), the process exits 0.
        var stopping = Stopwatch.StartNew();
        await Shell.PodmanAsync("stop", "-t", "30", store.Name);
        var stopTook = stopping.Elapsed;
        Assert.Equal("0", await store.InspectAsync("{{.State.ExitCode}}"));
        Assert.Contains($"outpost store {StoreId} stopped cleanly", await store.LogsAsync(), StringComparison.Ordinal);
        var wal = new FileInfo(Path.Combine(store.DataDirectory, "store.db-wal"));
        var walBytes = wal.Exists ? wal.Length : 0;
        Assert.True(walBytes == 0, $"the WAL was not checkpointed at stop: {walBytes} bytes left in it");
        await Shell.PodmanAsync("start", store.Name);
        await Fleet.WaitReadyAsync(storeUrl, TimeSpan.FromSeconds(60), store.LogsAsync);
        await WhileSellingAsync(tills, tills.Acknowledged.Count + 20);

        // SIGKILL (a crash, an out-of-memory kill): the restart policy brings it back by itself.
        var pid = int.Parse(await store.InspectAsync("{{.State.Pid}}"), System.Globalization.CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        await WaitAsync(async () => await store.InspectAsync("{{.RestartCount}}") != "0", TimeSpan.FromSeconds(60), "the restart policy to restart the killed store");
        await Fleet.WaitReadyAsync(storeUrl, TimeSpan.FromSeconds(60), store.LogsAsync);
        await WhileSellingAsync(tills, tills.Acknowledged.Count + 20);
        await stop.CancelAsync();
        await selling;

        // The till page open through all of it reconnected by itself.
        await Expect(page.Locator("body[data-live='on']")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await context.CloseAsync();

        var acknowledged = tills.Acknowledged;
        Assert.True(tills.GaveUp.IsEmpty, $"the tills gave up on sales the store kept refusing: {string.Join(", ", tills.GaveUp)}");
        await WaitAsync(async () => await Fleet.SalesAtHqAsync(hqAdmin, StoreId) >= acknowledged.Count, TimeSpan.FromSeconds(60), "HQ to hold every acknowledged sale");
        // HQ stops while the store holds a long poll on it: the poll ends, HQ exits 0 by itself (a kill after the 30 s
        // grace period would exit 137), and the store, its link down, stops cleanly too.
        await Shell.PodmanAsync("stop", "-t", "30", hq.Name);
        Assert.Equal("0", await hq.InspectAsync("{{.State.ExitCode}}"));
        Assert.Contains("outpost central stopped cleanly", await hq.LogsAsync(), StringComparison.Ordinal);
        await Shell.PodmanAsync("stop", "-t", "30", store.Name);
        Assert.Equal("0", await store.InspectAsync("{{.State.ExitCode}}"));
        var atStore = await Fleet.SalesInLogAsync(Path.Combine(store.DataDirectory, "store.db"), StoreId);
        var atHq = await Fleet.SalesInLogAsync(Path.Combine(hq.DataDirectory, "hq.db"), "hq");
        foreach (var (where, sales) in new[] { ("store", atStore), ("HQ", atHq) })
        {
            var byKey = sales.GroupBy(s => s.IdempotencyKey).ToDictionary(g => g.Key, g => g.ToList());
            Assert.All(acknowledged, a => Assert.True(byKey.TryGetValue(a.Key, out var found) && found.Count == 1 && found[0].SaleId == a.Value,
                $"{where}: sale {a.Key} ({a.Value}) is there {(found?.Count ?? 0)} times"));
            Assert.Equal(sales.Count, sales.Select(s => s.SaleId).Distinct().Count());
            Assert.Equal(acknowledged.Count, sales.Count);
        }

        var summary = $"{acknowledged.Count} sales acknowledged by 4 tills across a SIGTERM stop ({stopTook.TotalSeconds:0.0} s) and a SIGKILL, " +
            $"{tills.Retries} requests retried, longest gap a till saw: {tills.LongestGap.TotalSeconds:0.0} s";
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.AddAttachment("graceful-stop", summary);
    }

    private static async Task WhileSellingAsync(Tills tills, int until)
    {
        await WaitAsync(() => Task.FromResult(tills.Acknowledged.Count >= until), TimeSpan.FromSeconds(60), $"the tills to reach {until} sales");
    }

    private static async Task WaitAsync(Func<Task<bool>> done, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (await done())
            {
                return;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"Waited {limit.TotalSeconds:0} s for {what}.");
    }
}
