using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Core.Tests.Log;

public sealed class TailTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_waiting_reader_wakes_when_an_event_is_committed()
    {
        await using var temp = TempLog.Create();
        var waiting = temp.Log.WaitForAppendAsync(0, Ct).AsTask();
        await Task.Delay(50, Ct);
        Assert.False(waiting.IsCompleted);

        await temp.Log.AppendAsync(TempLog.Event(), Ct);

        await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task Tail_returns_history_then_new_events_in_order_filtered_by_topic_and_scope()
    {
        await using var temp = TempLog.Create();
        await temp.Log.AppendAsync(TempLog.Event(topic: "prices", key: "old", scope: Scope.Store("s1")), Ct);
        await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry", key: "noise"), Ct);
        await temp.Log.AppendAsync(TempLog.Event(topic: "prices", key: "other-store", scope: Scope.Store("s2")), Ct);
        var filter = new ReadFilter { Topics = ["prices"], Scopes = [Scope.All, Scope.Store("s1")] };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        var seen = new List<string>();

        var tail = Task.Run(async () =>
        {
            await foreach (var e in temp.Log.TailAsync(0, filter, cts.Token))
            {
                seen.Add(e.Key);
                if (seen.Count == 3)
                {
                    return;
                }
            }
        }, Ct);
        await temp.Log.AppendAsync(TempLog.Event(topic: "prices", key: "new-all"), Ct);
        await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry", key: "noise-2"), Ct);
        await temp.Log.AppendAsync(TempLog.Event(topic: "prices", key: "new-s1", scope: Scope.Store("s1")), Ct);
        await tail.WaitAsync(cts.Token);

        Assert.Equal(["old", "new-all", "new-s1"], seen);
    }

    [Fact]
    public async Task A_filtered_read_reports_how_far_it_scanned_past_skipped_events()
    {
        await using var temp = TempLog.Create();
        await temp.Log.AppendAsync(TempLog.Event(topic: "prices"), Ct);
        for (var i = 0; i < 5; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry"), Ct);
        }

        var page = await temp.Log.ReadAsync(0, ReadFilter.ForTopics("prices"), 10, Ct);

        Assert.Single(page.Events);
        Assert.Equal(6, page.ScannedTo);
    }
}
