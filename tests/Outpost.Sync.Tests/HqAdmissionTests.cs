using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Sync.Hq;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>
/// HQ's admission control (<see cref="SyncAdmission"/>): a node with as many sync requests working and waiting as it
/// admits turns the next away at once with 503 and <c>Retry-After</c>, applying nothing, and the store's agent waits
/// as asked (with jitter) instead of coming back at its own pace; once the node has room, everything arrives once.
/// </summary>
public sealed class HqAdmissionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_that_is_full_turns_sync_requests_away_with_503_and_Retry_After_which_the_agent_honours_and_nothing_is_lost()
    {
        await using var cluster = await Cluster.StartAsync(configure: o =>
        {
            o.Sync.MaxConcurrentWork = 1;
            o.Sync.MaxQueuedWork = 0;
        });
        var admission = cluster.Hq.Services.GetRequiredService<SyncAdmission>();
        var s1 = await cluster.RegisterAsync("s1", "north");
        using var http = new HttpClient { BaseAddress = cluster.HqAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"s1:{s1.Secret}");

        // The node's one permit is taken, as by another store's request: the next is told at once, in words.
        var taken = await admission.EnterAsync(Ct);
        Assert.NotNull(taken);
        using (var busy = await http.GetAsync($"{SyncWire.DownPath}?after=0&wait=0", Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), busy.Headers.RetryAfter?.Delta);
            var text = await busy.Content.ReadAsStringAsync(Ct);
            Assert.Contains("HQ is busy", text, StringComparison.Ordinal);
            Assert.Contains("nothing was applied", text, StringComparison.Ordinal);
        }

        // A store with sales to send: its agent's up link and down stream are turned away too, and each waits 2 to 4 s
        // before it tries again (its own backoff here is milliseconds): in 3.5 s at most two tries of each.
        var store = await cluster.StartStoreAsync("s2", "north");
        for (var i = 0; i < 20; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"b{i}"), Ct);
        }

        var before = admission.TurnedAway;
        await Task.Delay(3500, Ct);
        var tries = admission.TurnedAway - before;
        Assert.Empty(await cluster.HqEventsFromAsync("s2"));
        Assert.True(tries is >= 1 and <= 4, $"the agent tried {tries} times in 3.5 s while HQ asked it to wait 2 s");

        // Room again: every sale arrives, once.
        taken.Dispose();
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s2")).Count == 20, TimeSpan.FromSeconds(30)),
            $"HQ holds {(await cluster.HqEventsFromAsync("s2")).Count} of the store's 20 sales 30 s after it had room");
        Assert.Equal(20, (await cluster.HqEventsFromAsync("s2")).Select(e => e.Origin.Seq).Distinct().Count());
    }
}
