using Outpost.Sync.Faults;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Agent;

namespace Outpost.Sync.Tests;

/// <summary>Run against HQ on SQLite and on PostgreSQL: the same behaviour on both.</summary>
public abstract class SyncFlowTests
{
    /// <summary>A fresh HQ database: null for SQLite, or a PostgreSQL connection string.</summary>
    protected abstract Task<string?> HqDatabaseAsync();

    private async Task<Cluster> StartClusterAsync() => await Cluster.StartAsync(await HqDatabaseAsync());

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Store_events_reach_hq_once_each_and_the_store_checkpoints_what_hq_acknowledged()
    {
        await using var cluster = await StartClusterAsync();
        var store = await cluster.StartStoreAsync("s1", "north");

        for (var i = 0; i < 500; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"b{i}"), Ct);
        }

        Assert.True(await Cluster.EventuallyAsync(async () => await store.AckedUpAsync() == store.Log.Head, Bound), "the store never checkpointed its last sale");
        var atHq = await cluster.HqEventsFromAsync("s1");
        var atStore = await Cluster.ReadAllAsync(store.Log, Outpost.Core.Log.ReadFilter.ForTopics("sales"));

        // Origin seqs count every event the store records, local ones (connectivity) included: compare
        // with the store's own sales, in its order.
        Assert.Equal(atStore.Select(e => e.Origin.Seq), atHq.Select(e => e.Origin.Seq));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"b{i}"), atHq.Select(e => e.Key));
    }

    [Fact]
    public async Task A_price_change_at_hq_reaches_an_online_store_without_waiting_for_a_poll()
    {
        await using var cluster = await StartClusterAsync();
        var store = await cluster.StartStoreAsync("s1", "north", tweak: o => o.LongPoll = TimeSpan.FromSeconds(5));
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == ConnectivityState.Online), Bound));
        await Task.Delay(300, Ct); // the store's long poll is now held open at HQ

        await cluster.PublishAsync("prices", "0000000000017", "*", """{"price":"1.99"}""");

        // Far less than the 5 s long-poll timeout: the held request was answered by the commit.
        Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("prices"))).Count == 1, TimeSpan.FromSeconds(4)));
        var price = (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("prices")))[0];
        Assert.Equal(("hq", "0000000000017"), (price.Origin.Node.Value, price.Key));
    }

    [Fact]
    public async Task A_store_receives_exactly_the_scopes_it_is_entitled_to()
    {
        await using var cluster = await StartClusterAsync();
        var north1 = await cluster.StartStoreAsync("n1", "north");
        var north2 = await cluster.StartStoreAsync("n2", "north");
        var south1 = await cluster.StartStoreAsync("s1", "south");

        await cluster.PublishAsync("prices", "all", "*", "{}");
        await cluster.PublishAsync("prices", "north", "region:north", "{}");
        await cluster.PublishAsync("prices", "south", "region:south", "{}");
        await cluster.PublishAsync("prices", "n1-only", "store:n1", "{}");
        await cluster.PublishAsync("prices", "s1-only", "store:s1", "{}");
        var last = await cluster.PublishAsync("config", "marker", "*", "{}", type: "Marker");

        async Task<List<string>> KeysAsync(StoreNode node)
        {
            Assert.True(await Cluster.EventuallyAsync(async () => await node.Log.GetCursorAsync("down:hq", Ct) >= last, Bound), $"{node.StoreId} never caught up");
            return [.. (await Cluster.ReadAllAsync(node.Log, ReadFilter.ForTopics("prices"))).Select(e => e.Key)];
        }

        Assert.Equal(["all", "north", "n1-only"], await KeysAsync(north1));
        Assert.Equal(["all", "north"], await KeysAsync(north2));
        Assert.Equal(["all", "south", "s1-only"], await KeysAsync(south1));
    }

    [Fact]
    public async Task After_an_outage_the_upload_resumes_from_the_acknowledged_checkpoint_not_from_the_start()
    {
        await using var cluster = await StartClusterAsync();
        await using var proxy = new FaultProxy(cluster.HqAddress);
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address, tweak: o => o.Compression = "identity");
        for (var i = 0; i < 2000; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"first-{i}"), Ct);
        }

        Assert.True(await Cluster.EventuallyAsync(async () => await store.AckedUpAsync() == store.Log.Head, Bound));
        var firstUpload = proxy.BytesUp;

        proxy.Mode = ProxyMode.Cut;
        for (var i = 0; i < 100; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"second-{i}"), Ct);
        }

        await Task.Delay(500, Ct);
        var duringOutage = proxy.BytesUp;
        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(async () => await store.AckedUpAsync() == store.Log.Head, Bound));
        var resumed = proxy.BytesUp - duringOutage;

        Assert.Equal(2100, (await cluster.HqEventsFromAsync("s1")).Count);

        // 100 sales after the outage cost about a twentieth of the first 2,000, plus heartbeats and polls:
        // far less than re-sending everything.
        Assert.True(resumed < firstUpload / 4, $"after the outage {resumed} bytes went up; the first 2,000 sales took {firstUpload}");
    }

    [Fact]
    public async Task A_slow_throttled_link_still_delivers_every_sale_once_in_order_and_every_price_change()
    {
        await using var cluster = await StartClusterAsync();
        await using var proxy = new FaultProxy(cluster.HqAddress) { Delay = TimeSpan.FromMilliseconds(250), BytesPerSecond = 1_000 };

        // The fixture really slows the link: HQ's admin page (about 4 KB) cannot come through at 1 KB/s in under 3 s,
        // and a request and its answer each wait 250 ms.
        using (var browser = new HttpClient { BaseAddress = proxy.Address, Timeout = TimeSpan.FromSeconds(30) })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var page = await browser.GetByteArrayAsync("admin.html", Ct);
            Assert.True(page.Length > 3_000, $"admin.html is {page.Length} bytes");
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3), $"{page.Length} bytes came through a 1 KB/s link in {clock.Elapsed.TotalSeconds:F1} s");
        }

        // A poor store link: 250 ms more per chunk each way, 16 KB/s per connection, requests allowed 10 s.
        proxy.BytesPerSecond = 16_000;
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address, tweak: o => o.RequestTimeout = TimeSpan.FromSeconds(10));
        for (var i = 0; i < 1000; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"slow-{i}"), Ct);
        }

        var price = await cluster.PublishAsync("prices", "p-slow", "*", """{"gtin":"5000000000017","price":"1.99"}""");
        Assert.True(await Cluster.EventuallyAsync(async () => await store.AckedUpAsync() == store.Log.Head, TimeSpan.FromSeconds(90)),
            $"the store's sales did not all reach HQ through the slow link (acknowledged {await store.AckedUpAsync()} of {store.Log.Head})");
        Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("prices"))).Any(e => e.Key == "p-slow"), TimeSpan.FromSeconds(30)),
            $"HQ's price change (seq {price}) did not reach the store through the slow link");

        var atHq = await cluster.HqEventsFromAsync("s1");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"slow-{i}"), atHq.Where(e => e.Topic == "sales").Select(e => e.Key));
        Assert.True(proxy.BytesUp > 0 && proxy.BytesDown > 0);
    }

    [Fact]
    public async Task The_store_reports_offline_while_the_link_is_cut_and_online_when_it_returns_as_local_events()
    {
        await using var cluster = await StartClusterAsync();
        await using var proxy = new FaultProxy(cluster.HqAddress);
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address);
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == ConnectivityState.Online), Bound));

        proxy.Mode = ProxyMode.Cut;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == ConnectivityState.Offline), Bound), "never went offline");
        var offline = store.Connectivity.Current;
        await store.Log.AppendAsync(Cluster.Sale("while-offline"), Ct);
        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == ConnectivityState.Online), Bound), "never came back online");

        Assert.NotNull(offline.LastError);

        // Changes are recorded in the log right after they happen (by the agent's publisher): wait for the last.
        async Task<List<string?>> ChangesAsync() => [.. (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics(ReplicationAgent.ConnectivityTopic)))
            .Select(e => JsonDocument.Parse(e.Payload).RootElement.GetProperty("state").GetString())];
        Assert.True(await Cluster.EventuallyAsync(async () => (await ChangesAsync()) is [.., "Online"], Bound), $"recorded: {string.Join(", ", await ChangesAsync())}");
        Assert.Contains("Offline", await ChangesAsync());
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Any(e => e.Key == "while-offline"), Bound));
    }

    [Fact]
    public async Task The_connectivity_endpoint_shows_state_backlog_and_lag()
    {
        await using var cluster = await StartClusterAsync();
        var store = await cluster.StartStoreAsync("s1", "north");
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == ConnectivityState.Online), Bound));
        using var http = new HttpClient { BaseAddress = Outpost.Sync.Hosting.HostAddress.Address(store.App) };
        using var anonymous = await http.GetAsync("api/connectivity", Ct);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", StoreNode.AdminToken);

        var json = JsonDocument.Parse(await http.GetStringAsync("api/connectivity", Ct)).RootElement;

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode); // the back office sees it, not anonymous callers
        Assert.Equal("Online", json.GetProperty("state").GetString());
        Assert.Equal(0, json.GetProperty("upBacklog").GetInt64());
        Assert.True(json.TryGetProperty("since", out _));
    }

    [Fact]
    public async Task Sales_drain_before_stock_and_stock_before_telemetry_and_each_topic_keeps_the_store_order()
    {
        await using var cluster = await StartClusterAsync();
        await using var proxy = new FaultProxy(cluster.HqAddress);
        proxy.Mode = ProxyMode.Cut;
        var store = await cluster.StartStoreAsync("s1", "north", via: proxy.Address, tweak: o => o.MaxBatchEvents = 100);
        for (var i = 0; i < 300; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"t{i}", topic: "telemetry"), Ct);
            await store.Log.AppendAsync(Cluster.Sale($"k{i}", topic: "stock"), Ct);
            await store.Log.AppendAsync(Cluster.Sale($"s{i}"), Ct);
        }

        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 900, Bound));

        var atHq = await cluster.HqEventsFromAsync("s1");
        var lastSale = atHq.FindLastIndex(e => e.Topic == "sales");
        var firstTelemetry = atHq.FindIndex(e => e.Topic == "telemetry");
        var lastStock = atHq.FindLastIndex(e => e.Topic == "stock");
        Assert.True(lastSale < atHq.FindIndex(e => e.Topic == "stock") || lastSale < firstTelemetry, "sales did not drain first");
        Assert.True(lastStock < firstTelemetry, "stock did not drain before telemetry");
        foreach (var topic in new[] { "sales", "stock", "telemetry" })
        {
            var seqs = atHq.Where(e => e.Topic == topic).Select(e => e.Origin.Seq).ToList();
            Assert.Equal(seqs.Order(), seqs);
        }
    }
}

public sealed class SyncFlowTestsOnSqlite : SyncFlowTests
{
    protected override Task<string?> HqDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class SyncFlowTestsOnPostgres(Outpost.Testing.PostgresServer server) : SyncFlowTests
{
    protected override async Task<string?> HqDatabaseAsync() => await server.CreateDatabaseAsync(TestContext.Current.CancellationToken);
}
