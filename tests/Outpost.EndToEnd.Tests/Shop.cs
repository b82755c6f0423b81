using Outpost.Sync.Faults;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Central;
using Outpost.Central.Admin;
using Outpost.Central.Stores;
using Outpost.Cli.Bench;
using Outpost.Cli.Commands;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Store;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;

namespace Outpost.EndToEnd.Tests;

/// <summary>
/// HQ and one store, each a real server on 127.0.0.1, the store's internet link a relay that the test can cut.
/// HQ publishes the catalog, prices, a 3-for-2 and menu items with recipes; they reach the store by replication.
/// </summary>
internal sealed class Shop : IAsyncDisposable
{
    public const string AdminToken = "e2e-store-admin";
    public const string StoreId = "s-042";
    public const string Cola = DemoCatalog.Cola;
    public const string Burger = DemoCatalog.Burger;
    public const string Salad = DemoCatalog.Salad;

    private Shop(string directory, WebApplication hq, FaultProxy link, WebApplication store)
    {
        Directory = directory;
        Hq = hq;
        Link = link;
        Store = store;
    }

    public string Directory { get; }

    public WebApplication Hq { get; }

    public FaultProxy Link { get; }

    public WebApplication Store { get; }

    public Uri StoreAddress => Store.Address();

    public IEventLog HqLog => Hq.Services.GetRequiredService<IEventLog>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <param name="storeDirectory">Where the store keeps its data (default: beside HQ's, in the shop's temp folder).</param>
    public static async Task<Shop> StartAsync(string? storeDirectory = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "outpost-e2e", Guid.NewGuid().ToString("N"));
        var hq = CentralHost.Build(new CentralOptions
        {
            DataDirectory = Path.Combine(directory, "hq"),
            Urls = "http://127.0.0.1:0",
            AdminToken = "hq-admin",
            Topics = RetailTopics.Catalog,
            Sync = { MaxLongPoll = TimeSpan.FromSeconds(5) },
        });
        await hq.StartAsync(Ct);
        using var admin = new HttpClient { BaseAddress = hq.Address() };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "hq-admin");
        var registered = await admin.PostAsJsonAsync("admin/stores", new RegisterStore(StoreId, "north"), Ct);
        registered.EnsureSuccessStatusCode();
        var secret = (await registered.Content.ReadFromJsonAsync<IssuedCredential>(Ct))!.Secret;
        await PublishMasterDataAsync(hq.Services.GetRequiredService<IEventLog>());

        var link = new FaultProxy(hq.Address());
        var store = StoreHost.Build(new StoreOptions
        {
            StoreId = StoreId,
            Region = "north",
            TimeZone = "Europe/Paris",
            DataDirectory = storeDirectory ?? Path.Combine(directory, StoreId),
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            Sync = new SyncClientOptions
            {
                Central = link.Address,
                Secret = secret,
                BackoffBase = TimeSpan.FromMilliseconds(20),
                BackoffCap = TimeSpan.FromMilliseconds(500),
                LongPoll = TimeSpan.FromSeconds(2),
                RequestTimeout = TimeSpan.FromSeconds(3),
                Heartbeat = TimeSpan.FromSeconds(1),
            },
        });
        await store.StartAsync(Ct);
        var shop = new Shop(directory, hq, link, store);
        using var client = shop.Client(AdminToken);
        var arrived = await EventuallyAsync(async () =>
        {
            var menu = await client.GetAsync("/api/menu", Ct);
            return menu.IsSuccessStatusCode && JsonDocument.Parse(await menu.Content.ReadAsStringAsync(Ct)).RootElement.GetArrayLength() == 3
                && (await client.GetAsync($"/api/products/{Cola}", Ct)).IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(30));
        Assert.True(arrived, "HQ's master data did not reach the store within 30 s.");
        return shop;
    }

    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = StoreAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }


    /// <summary>A device that is not a browser (its token in the Authorization header), enrolled through the API.</summary>
    public async Task<string> EnrolAsync(string role)
    {
        using var admin = Client(AdminToken);
        var response = await admin.PostAsJsonAsync("/api/devices", new { name = "e2e " + role, role }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("token").GetString()!;
    }

    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var i = 0; i < 10_000 && DateTime.UtcNow < deadline; i++)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100, Ct);
        }

        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        await Store.StopAsync(CancellationToken.None);
        await Store.DisposeAsync();
        await Link.DisposeAsync();
        await Hq.StopAsync(CancellationToken.None);
        await Hq.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task PublishMasterDataAsync(IEventLog hq) => await hq.AppendBatchAsync(DemoCatalog.Events("north"), cancellationToken: Ct);
}
