using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Outpost.Central;
using Outpost.Central.Admin;
using Outpost.Central.Stores;
using Outpost.Core.Contracts;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Store;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;

namespace Outpost.Sync.Tests;

/// <summary>A real HQ on 127.0.0.1 (free port; temp SQLite, or a PostgreSQL database when given one) and the stores a test starts against it.</summary>
internal sealed class Cluster : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token";

    public static readonly TopicCatalog Topics = new([
        new TopicPolicy("sales", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.KeepForever),
        new TopicPolicy("stock", TopicDirection.Up, TopicPriority.High, RetentionPolicy.KeepForever),
        new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.KeepForever),
        new TopicPolicy("prices", TopicDirection.Down, TopicPriority.High, RetentionPolicy.KeepForever),
        new TopicPolicy("config", TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.KeepForever),
    ]);

    /// <summary>Any JSON object: the schema of the made-up types these tests publish (replication never looks inside a payload).</summary>
    public const string AnyObject = """{"type":"object"}""";

    /// <summary>HQ's contracts in these tests: Outpost's, and the made-up types the replication tests publish through the admin API.</summary>
    public static readonly ContractCatalog Contracts = CentralOptions.DefaultContracts.With([
        EventContract.FromSchema("prices", "PriceChanged", 1, AnyObject),
        EventContract.FromSchema("config", "Marker", 1, AnyObject),
    ]);

    private readonly List<StoreNode> _stores = [];

    private Cluster(string directory, WebApplication hq, TopicCatalog catalog, HttpMessageHandler? adminHandler)
    {
        Catalog = catalog;
        Directory = directory;
        Hq = hq;
        Admin = adminHandler is null ? new HttpClient { BaseAddress = hq.Address() } : new HttpClient(adminHandler) { BaseAddress = hq.Address() };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public string Directory { get; }

    /// <summary>The topic policies HQ and the stores of this cluster run with.</summary>
    public TopicCatalog Catalog { get; }

    public WebApplication Hq { get; }

    public Uri HqAddress => Hq.Address();

    public HttpClient Admin { get; }

    public IEventLog HqLog => Hq.Services.GetRequiredService<IEventLog>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <param name="postgres">A PostgreSQL connection string, or null for SQLite.</param>
    /// <param name="topics">The topic catalog.</param>
    /// <param name="configure">Last changes to HQ's options.</param>
    /// <param name="adminHandler">The admin client's handler (one that trusts a test CA, when HQ serves HTTPS).</param>
    public static async Task<Cluster> StartAsync(string? postgres = null, TopicCatalog? topics = null, Action<CentralOptions>? configure = null, HttpMessageHandler? adminHandler = null)
    {
        topics ??= Topics;
        var directory = Path.Combine(Path.GetTempPath(), "outpost-sync-tests", Guid.NewGuid().ToString("N"));
        var options = new CentralOptions
        {
            DataDirectory = Path.Combine(directory, "hq"),
            Postgres = postgres,
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            Topics = topics,
            Contracts = Contracts,
            Sync = { MaxLongPoll = TimeSpan.FromSeconds(5), MaxRequestBytes = 4 * 1024 * 1024 },
        };
        configure?.Invoke(options);
        var hq = CentralHost.Build(options);
        await hq.StartAsync(Ct);
        return new Cluster(directory, hq, topics, adminHandler);
    }

    public async Task<IssuedCredential> RegisterAsync(string storeId, string region)
    {
        using var response = await Admin.PostAsJsonAsync("admin/stores", new RegisterStore(storeId, region), Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<IssuedCredential>(Ct))!;
    }

    public static SyncClientOptions FastSync(Uri central, string secret) => new()
    {
        Central = central,
        Secret = secret,
        BackoffBase = TimeSpan.FromMilliseconds(20),
        BackoffCap = TimeSpan.FromMilliseconds(300),
        RefusedBackoffCap = TimeSpan.FromSeconds(1),
        LongPoll = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(3),
        Heartbeat = TimeSpan.FromSeconds(1),
    };

    /// <summary>Registers a store (unless given a credential) and starts its server, talking to HQ directly or through <paramref name="via"/>.</summary>
    public async Task<StoreNode> StartStoreAsync(string storeId, string region, Uri? via = null, string? secret = null, Action<SyncClientOptions>? tweak = null,
        Action<StoreOptions>? configure = null)
    {
        secret ??= (await RegisterAsync(storeId, region)).Secret;
        var sync = FastSync(via ?? HqAddress, secret);
        tweak?.Invoke(sync);
        var node = new StoreNode(storeId, Path.Combine(Directory, storeId), sync, Catalog, region, configure);
        await node.StartAsync();
        _stores.Add(node);
        return node;
    }

    public async Task<long> PublishAsync(string topic, string key, string scope, string json, string type = "PriceChanged", int version = 1)
    {
        using var response = await Admin.PostAsJsonAsync("admin/events",
            new PublishEvent(topic, type, key, scope, System.Text.Json.JsonDocument.Parse(json).RootElement, version), Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Published>(Ct))!.Seq;
    }

    /// <summary>All events HQ holds from one origin, in HQ's order.</summary>
    public async Task<List<StoredEvent>> HqEventsFromAsync(string origin) => (await ReadAllAsync(HqLog)).Where(e => e.Origin.Node.Value == origin).ToList();

    public static Task<List<StoredEvent>> ReadAllAsync(IEventLog log, ReadFilter? filter = null) =>
        log.ReadAllAsync(filter ?? ReadFilter.All, pageSize: 5000, cancellationToken: Ct);

    public static NewEvent Sale(string key, string? json = null, string topic = "sales", int version = 1) => new()
    {
        Topic = topic,
        Type = "SimulatedSale",
        Version = version,
        Key = key,
        Payload = Encoding.UTF8.GetBytes(json ?? $$"""{"basket":"{{key}}","total":"12.40","currency":"EUR"}"""),
    };

    /// <summary>Waits (bounded) until a condition holds; returns whether it did.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20, Ct);
        }

        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        Admin.Dispose();
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
}

/// <summary>A store server started by a test.</summary>
internal sealed class StoreNode(string storeId, string directory, SyncClientOptions sync, TopicCatalog? topics = null, string? region = null,
    Action<StoreOptions>? configure = null) : IAsyncDisposable
{
    private WebApplication? _app;

    public string StoreId { get; } = storeId;

    public SyncClientOptions Sync { get; } = sync;

    public WebApplication App => _app ?? throw new InvalidOperationException("not started");

    public IEventLog Log => App.Services.GetRequiredService<IEventLog>();

    /// <summary>The back-office token of test stores.</summary>
    public const string AdminToken = "store-admin";

    public ConnectivityMonitor Connectivity => App.Services.GetRequiredService<ConnectivityMonitor>();

    public SyncClient Client => App.Services.GetRequiredService<SyncClient>();

    public async Task StartAsync()
    {
        var options = new StoreOptions
        {
            StoreId = StoreId,
            DataDirectory = directory,
            Urls = "http://127.0.0.1:0",
            Topics = topics ?? Cluster.Topics,
            Region = region ?? new StoreOptions().Region,
            Sync = Sync,
            AdminToken = AdminToken,

            // These tests count every event a store sends up. The store server's own telemetry (its health each
            // minute, its warnings, which the link faults here cause) would add to the count; it has tests of its own
            // (StoreHealthTests, LogsUpTests, DeviceFleetTests).
            LogsUp = new LogsUpOptions { Level = LogLevel.None },
            HealthInterval = TimeSpan.FromDays(1),
        };
        configure?.Invoke(options);
        _app = StoreHost.Build(options);
        await _app.StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Stops the server cleanly (a restart), keeping its data.</summary>
    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }

        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _app = null;
    }

    public async Task<long> AckedUpAsync(string lane = "critical") => await Log.GetCursorAsync("up:hq:" + lane) ?? 0;

    public async ValueTask DisposeAsync() => await StopAsync();
}
