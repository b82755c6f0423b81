using Outpost.Sync.Faults;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Outpost.Central.Admin;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Postgres;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>Two HQ processes on one PostgreSQL database, and a store a load balancer moves between them mid-sync.</summary>
public sealed class TwoHqNodesTests(PostgresServer server)
{
    private const string AdminToken = "t";
    private const int Sales = 1500;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_switched_between_two_hq_processes_mid_sync_loses_nothing_and_doubles_nothing()
    {
        var database = await server.CreateDatabaseAsync(Ct);
        var urls = new[] { $"http://127.0.0.1:{ChildProcess.FreePort()}", $"http://127.0.0.1:{ChildProcess.FreePort()}" };
        using var nodeA = await StartHqAsync(database, urls[0], register: true);
        using var nodeB = await StartHqAsync(database, urls[1], register: false);
        var secret = nodeA.Lines.Single(l => l.StartsWith("store s1 ", StringComparison.Ordinal)).Split(' ')[^1];
        await using var balancer = new FaultProxy(new Uri(urls[0]));
        var directory = Path.Combine(Path.GetTempPath(), "outpost-two-hq", Guid.NewGuid().ToString("N"));
        await using var store = new StoreNode("s1", directory, Cluster.FastSync(balancer.Address, secret));
        await store.StartAsync();

        // The till sells while HQ publishes configuration on both nodes and the balancer moves the store back and forth.
        var selling = Task.Run(async () =>
        {
            for (var i = 0; i < Sales; i += 10)
            {
                await store.Log.AppendBatchAsync([.. Enumerable.Range(i, 10).Select(n => Cluster.Sale($"b{n}"))], cancellationToken: Ct);
                await Task.Delay(5, Ct);
            }
        }, Ct);
        var published = new List<string>();
        for (var round = 0; round < 8; round++)
        {
            var via = urls[round % 2];
            foreach (var scope in new[] { "*", "region:north", "store:s1", "region:south", "store:s2" })
            {
                var key = $"r{round}-{scope}";
                await PublishAsync(via, key, scope);
                if (scope is "*" or "region:north" or "store:s1")
                {
                    published.Add(key);
                }
            }

            balancer.SwitchTo(new Uri(urls[(round + 1) % 2]));
            await Task.Delay(300, Ct);
        }

        await selling;
        await using var hq = await PostgresEventLog.OpenAsync(database, new LogOptions { NodeId = "hq" }, cancellationToken: Ct);
        var sales = ReadFilter.ForTopics("sales");
        Assert.True(await Cluster.EventuallyAsync(async () => await hq.CountAsync(0, sales, Ct) >= Sales, TimeSpan.FromSeconds(60)), "HQ never received every sale");
        Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("config"))).Count >= published.Count, TimeSpan.FromSeconds(30)),
            "the store never received every configuration it is entitled to");

        var fromStore = await Cluster.ReadAllAsync(hq, sales);
        // Each sale once, in the store's order (its origin sequences also count local events, so they rise but skip some).
        Assert.Equal(Enumerable.Range(0, Sales).Select(n => $"b{n}"), fromStore.Select(e => e.Key));
        Assert.True(fromStore.Zip(fromStore.Skip(1)).All(p => p.Second.Origin.Seq > p.First.Origin.Seq), "HQ holds the sales out of the store's order");
        var atStore = await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("config"));
        Assert.Equal(published.Order(StringComparer.Ordinal), atStore.Select(e => e.Key).Order(StringComparer.Ordinal));
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task PublishAsync(string hq, string key, string scope)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(hq) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await admin.PostAsJsonAsync("admin/events",
            new PublishEvent("config", "ConfigSet", key, scope, System.Text.Json.JsonDocument.Parse($$"""{"key":"{{key}}","value":1}""").RootElement), Ct);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<ChildProcess> StartHqAsync(string database, string url, bool register)
    {
        string[] args = ["central", "--postgres", database, "--urls", url, "--admin-token", AdminToken];
        var hq = ChildProcess.Start(register ? [.. args, "--register", "s1:north", "--register", "s2:south"] : args);
        await hq.WaitForLineAsync(l => l.StartsWith("outpost central listening", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return hq;
    }
}
