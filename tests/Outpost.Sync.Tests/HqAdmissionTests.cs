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
        // (HQ's 2 s, spread) before it tries again, though its own backoff here is milliseconds. Counted from before the
        // store starts, so the first tries are in: once both links have been turned away, 9 s see each try again at
        // least once (no link waits past 4 s) and at most 5 times (no link tries sooner than 2 s): at most 10 tries.
        var before = admission.TurnedAway;
        var store = await cluster.StartStoreAsync("s2", "north");
        for (var i = 0; i < 20; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"b{i}"), Ct);
        }

        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(admission.TurnedAway - before >= 2), TimeSpan.FromSeconds(30)),
            $"HQ turned the new store's agent away {admission.TurnedAway - before} times in 30 s; its up link and down stream should both have tried");
        var first = admission.TurnedAway;
        await Task.Delay(9000, Ct);
        var tries = admission.TurnedAway - first;
        Assert.Empty(await cluster.HqEventsFromAsync("s2"));
        Assert.True(tries is >= 2 and <= 10, $"the agent's two links tried {tries} times in 9 s while HQ asked each to wait 2 s (2 to 10 expected)");

        // Room again: every sale arrives, once.
        taken.Dispose();
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s2")).Count == 20, TimeSpan.FromSeconds(30)),
            $"HQ holds {(await cluster.HqEventsFromAsync("s2")).Count} of the store's 20 sales 30 s after it had room");
        Assert.Equal(20, (await cluster.HqEventsFromAsync("s2")).Select(e => e.Origin.Seq).Distinct().Count());
    }
}
