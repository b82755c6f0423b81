using System.Net;
using System.Net.Http.Headers;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>
/// HQ's limit per store (ASP.NET Core's rate limiter, a concurrency limit per store): a store that opens more sync
/// requests at once than allowed gets 429 with Retry-After for the extra ones, while other stores are served as usual,
/// and the store itself again as soon as its requests in flight end; its agent backs off and loses nothing.
/// </summary>
public sealed class StoreLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_over_its_share_gets_429_while_other_stores_are_served_and_its_agent_loses_nothing()
    {
        await using var cluster = await Cluster.StartAsync(configure: o => o.Sync.MaxConcurrentPerStore = 2);
        var s1 = await cluster.RegisterAsync("s1", "north");
        var s2 = await cluster.RegisterAsync("s2", "north");
        using var greedy = Http(cluster, $"s1:{s1.Secret}");
        using var polite = Http(cluster, $"s2:{s2.Secret}");

        // Two long polls held open use up s1's share; a third request of s1 is refused at once.
        var head = cluster.HqLog.Head;
        var held = Enumerable.Range(0, 2).Select(_ => greedy.GetAsync($"{SyncWire.DownPath}?after={head}&wait=4000", Ct)).ToList();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            await Task.Delay(50, Ct);
            var third = await greedy.GetAsync($"{SyncWire.DownPath}?after={head}&wait=0", Ct);
            if (third.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = third;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("already has 2 sync requests in progress", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await polite.GetAsync($"{SyncWire.DownPath}?after={head}&wait=0", Ct)).StatusCode);

        Assert.All(await Task.WhenAll(held), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await greedy.GetAsync($"{SyncWire.DownPath}?after={head}&wait=0", Ct)).StatusCode);

        // A real store under a share of 2 (its agent wants 4 up batches in flight and a long poll): 429s are backed off
        // and sent again; every sale arrives once.
        var store = await cluster.StartStoreAsync("s3", "north");
        for (var i = 0; i < 2000; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"b{i}"), Ct);
        }

        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s3")).Count == 2000, TimeSpan.FromSeconds(60)));
        Assert.Equal(2000, (await cluster.HqEventsFromAsync("s3")).Select(e => e.Origin.Seq).Distinct().Count());
    }

    private static HttpClient Http(Cluster cluster, string credential)
    {
        var client = new HttpClient { BaseAddress = cluster.HqAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return client;
    }
}
