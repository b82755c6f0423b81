using Outpost.Sync.Faults;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Central;
using Outpost.Central.Stores;
using Outpost.Cli.Bench;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Store;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Commands;

/// <summary>
/// <c>outpost demo --serve</c>: HQ and two stores that stay up, with HQ's catalog, a 3-for-2, menu items and a
/// member, and a device signed in for every page; it prints each page's address. Type <c>p</c> and Enter to
/// pull (or put back) store-002's plug and watch its pages keep working; Ctrl+C ends it.
/// </summary>
internal static class ServeDemo
{
    public static async Task RunAsync(TextWriter output, TextReader input, string directory, CancellationToken cancellationToken)
    {
        output.WriteLine("outpost demo --serve: HQ and two stores that stay up until Ctrl+C");
        await using var hq = CentralHost.Build(new CentralOptions { DataDirectory = Path.Combine(directory, "hq"), Urls = "http://127.0.0.1:0", Topics = RetailTopics.Catalog }, Quiet);
        await hq.StartAsync(cancellationToken);
        var registry = hq.Services.GetRequiredService<StoreDirectory>();
        var hqLog = hq.Services.GetRequiredService<IEventLog>();
        if (await hqLog.CountAsync(0, ReadFilter.ForTopics("products"), cancellationToken) == 0)
        {
            await hqLog.AppendBatchAsync(DemoCatalog.Events("north"), cancellationToken: cancellationToken);
        }

        await using var plug = new FaultProxy(hq.Address());
        var stores = new List<WebApplication>();
        try
        {
            foreach (var id in new[] { "store-001", "store-002" })
            {
                var options = new StoreOptions
                {
                    StoreId = id, Region = "north", TimeZone = "Europe/Paris", DataDirectory = Path.Combine(directory, id), Urls = "http://127.0.0.1:0",
                    AdminToken = "demo-" + id,
                };
                options.Sync.Central = id == "store-002" ? plug.Address : hq.Address();
                options.Sync.Secret = (await registry.RegisterOrRotateAsync(id, "north", cancellationToken)).Secret;
                options.Sync.BackoffCap = TimeSpan.FromSeconds(1);
                var store = StoreHost.Build(options, Quiet);
                await store.StartAsync(cancellationToken);
                stores.Add(store);
                output.WriteLine();
                output.WriteLine($"{id} on {store.Address()} (link to HQ {(id == "store-002" ? "through a plug: type p + Enter to pull it" : "direct")}):");
                using var admin = new HttpClient { BaseAddress = store.Address() };
                admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.AdminToken);
                foreach (var (page, role) in new[] { ("till", "till"), ("kiosk", "kiosk"), ("menu", "signage"), ("kitchen", "kitchen"), ("collection", "signage"), ("labels", "handheld"), ("backoffice", "backoffice") })
                {
                    // A pairing code per page, not a token: opening the address pairs the browser (an HttpOnly cookie) and
                    // opens the page; the code works once, for an hour.
                    var response = await admin.PostAsJsonAsync("/api/devices/pairings", new { name = "demo " + page, role, minutes = 60 }, cancellationToken);
                    var code = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("code").GetString();
                    output.WriteLine($"  {page,-11} {store.Address()}#pair={code}{(page == "collection" ? "  (a signage device: it opens menu.html; then open collection.html)" : "")}");
                }
            }

            output.WriteLine();
            output.WriteLine($"Scan {DemoCatalog.Cola} three times at a till for the 3-for-2; loyalty card {DemoCatalog.MemberCard}; mark 'bacon' out in the back office.");
            for (var lines = 0L; !cancellationToken.IsCancellationRequested && lines < long.MaxValue; lines++)
            {
                var line = await input.ReadLineAsync(cancellationToken);
                if (line is null)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken); // no console: serve until stopped
                }
                else if (line.Trim() == "p")
                {
                    plug.Mode = plug.Mode == ProxyMode.Pass ? ProxyMode.Reset : ProxyMode.Pass;
                    output.WriteLine(plug.Mode == ProxyMode.Pass ? "store-002's plug is back in: it catches up by itself." : "store-002's plug is pulled: its pages keep working; its back office shows it offline.");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.StopAsync(CancellationToken.None);
                await store.DisposeAsync();
            }

            await hq.StopAsync(CancellationToken.None);
        }
    }

    private static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.None);
}
