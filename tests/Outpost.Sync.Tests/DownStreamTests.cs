using System.Net.Http.Json;
using Outpost.Core.Log;
using Outpost.Sync.Agent;

namespace Outpost.Sync.Tests;

/// <summary>
/// The streamed down feed: the store follows HQ on one request, HQ writes each change to it as a frame and an empty
/// frame when quiet; a revoked store's stream ends and it is refused when it connects again; a store whose HQ does
/// not serve the stream long-polls and still gets everything.
/// </summary>
public sealed class DownStreamTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_change_arrives_as_a_frame_on_one_request_with_keep_alive_frames_between()
    {
        await using var cluster = await Cluster.StartAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        using var client = new SyncClient(new SyncClientOptions { Central = cluster.HqAddress, StoreId = "s1", Secret = s1.Secret, RequestTimeout = TimeSpan.FromSeconds(5) });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(60));
        var pages = new List<DownPage>();
        await using var frames = client.StreamDownAsync(0, TimeSpan.FromMilliseconds(500), stop.Token).GetAsyncEnumerator(stop.Token);

        // The first frame comes at once, before anything is published.
        Assert.True(await frames.MoveNextAsync());
        Assert.Empty(frames.Current.Events);
        var keys = new List<string>();
        var empty = 0;
        foreach (var (key, scope) in new[] { ("p1", "*"), ("p2", "region:north"), ("p3", "store:s1"), ("other", "store:s2"), ("p4", "region:south"), ("p5", "*") })
        {
            await cluster.PublishAsync("prices", key, scope, """{"price":"1.00"}""");
        }

        while (keys.Count < 4 && await frames.MoveNextAsync())
        {
            pages.Add(frames.Current);
            keys.AddRange(frames.Current.Events.Select(e => e.Key));
        }

        // Only what it is entitled to, in HQ's order, on the same request; the cursor only moves forward.
        Assert.Equal(["p1", "p2", "p3", "p5"], keys);
        Assert.True(pages.Zip(pages.Skip(1)).All(p => p.Second.Next >= p.First.Next));

        // Quiet: empty frames keep the link alive (half a second apart here), each at HQ's head.
        while (empty < 2 && await frames.MoveNextAsync())
        {
            Assert.Empty(frames.Current.Events);
            empty++;
        }

        Assert.Equal(2, empty);
        Assert.Equal(cluster.HqLog.Head, frames.Current.Head);
    }

    [Fact]
    public async Task A_new_store_catches_up_on_thousands_of_events_in_large_frames_each_whole_and_in_order()
    {
        await using var cluster = await Cluster.StartAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var padding = new string('x', 200);
        for (var i = 0; i < 2500; i++)
        {
            await cluster.PublishAsync("prices", $"p{i:D4}", "*", $$"""{"price":"1.00","note":"{{padding}}"}""");
        }

        using var client = new SyncClient(new SyncClientOptions { Central = cluster.HqAddress, StoreId = "s1", Secret = s1.Secret, RequestTimeout = TimeSpan.FromSeconds(10) });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(60));
        var keys = new List<string>();
        await foreach (var page in client.StreamDownAsync(0, TimeSpan.FromSeconds(5), stop.Token))
        {
            keys.AddRange(page.Events.Select(e => e.Key));
            if (keys.Count >= 2500)
            {
                break;
            }
        }

        // Frames of up to 1,000 events (hundreds of kilobytes before compression) arrive whole.
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => $"p{i:D4}"), keys);
    }

    [Fact]
    public async Task A_revoked_store_s_stream_ends_and_it_is_refused_when_it_connects_again()
    {
        await using var cluster = await Cluster.StartAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        using var client = new SyncClient(new SyncClientOptions { Central = cluster.HqAddress, StoreId = "s1", Secret = s1.Secret, RequestTimeout = TimeSpan.FromSeconds(5) });
        await using var frames = client.StreamDownAsync(0, TimeSpan.FromSeconds(30), Ct).GetAsyncEnumerator(Ct);
        Assert.True(await frames.MoveNextAsync());

        (await cluster.Admin.PostAsync("admin/stores/s1/revoke", null, Ct)).EnsureSuccessStatusCode();

        // The stream ends (not after its 30 s keep-alive), and connecting again is refused.
        Assert.False(await frames.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        var refused = await Assert.ThrowsAsync<SyncRefusedException>(async () =>
        {
            await foreach (var _ in client.StreamDownAsync(0, TimeSpan.FromSeconds(30), Ct))
            {
            }
        });
        Assert.Contains("revoked", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_whose_hq_does_not_serve_the_stream_long_polls_and_still_gets_every_change()
    {
        await using var cluster = await Cluster.StartAsync(configure: o => o.Sync.ServeDownStream = false);
        var s1 = await cluster.RegisterAsync("s1", "north");
        using var client = new SyncClient(new SyncClientOptions { Central = cluster.HqAddress, StoreId = "s1", Secret = s1.Secret });
        var unsupported = await Assert.ThrowsAsync<DownStreamUnsupportedException>(async () =>
        {
            await foreach (var _ in client.StreamDownAsync(0, TimeSpan.FromSeconds(1), Ct))
            {
            }
        });
        Assert.Contains("long-polling", unsupported.Message, StringComparison.Ordinal);

        var store = await cluster.StartStoreAsync("s2", "north");
        for (var i = 0; i < 5; i++)
        {
            await cluster.PublishAsync("prices", $"p{i}", "*", """{"price":"1.00"}""");
        }

        Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("prices"))).Count == 5, TimeSpan.FromSeconds(30)),
            "the store never received the five prices by long polls");
        Assert.Equal(["p0", "p1", "p2", "p3", "p4"], (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("prices"))).Select(e => e.Key));
    }
}
