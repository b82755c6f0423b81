using System.Text;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Sync.Hq;

namespace Outpost.Sync.Tests;

/// <summary>The shared window of recent down events: each store gets what a log read for its scopes would give.</summary>
public sealed class DownFeedTests : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-downfeed-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteEventLog _log;

    public DownFeedTests() =>
        _log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "hq.db"), NodeId = "hq", Topics = Outpost.Retail.RetailTopics.Catalog });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_held_poll_wakes_for_a_down_event_in_any_scope_and_not_for_store_uploads()
    {
        await using var feed = new DownFeed(_log);
        var at = (await feed.ReadAsync(_log.Head, [Scope.All], 10, Ct)).ScannedTo;
        var held = feed.WaitForDownAsync(at, Ct).AsTask();

        // Store uploads: HQ commits them all day long; 2,000 held polls must not wake for each.
        for (var i = 0; i < 50; i++)
        {
            await _log.AppendAsync(new NewEvent { Topic = "sales", Type = "SaleCompleted", Key = $"b{i}", Scope = Scope.Store("s1"), Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
        }

        await Task.Delay(300, Ct);
        Assert.False(held.IsCompleted, "a held poll woke for store uploads");

        var price = await _log.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceSet", Key = "p1", Scope = Scope.Store("s9"), Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
        await held.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        // It was another store's price: this poll finds nothing for its scopes and waits again, past it.
        var page = await feed.ReadAsync(at, [Scope.All, Scope.Store("s1")], 10, Ct);
        Assert.Empty(page.Events);
        Assert.True(page.ScannedTo >= price.Seq);
        var again = feed.WaitForDownAsync(page.ScannedTo, Ct).AsTask();
        await Task.Delay(200, Ct);
        Assert.False(again.IsCompleted, "a poll woke again for an event it had already passed");
        await _log.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceSet", Key = "p2", Scope = Scope.All, Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
        await again.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("p2", Assert.Single((await feed.ReadAsync(page.ScannedTo, [Scope.All, Scope.Store("s1")], 10, Ct)).Events).Key);
    }

    [Fact]
    public async Task Every_cursor_in_and_behind_the_window_gets_what_the_log_would_give_for_its_scopes()
    {
        Scope[] north = [Scope.All, Scope.Region("north"), Scope.Store("s1")];
        using var feed = new DownFeed(_log, window: 40);
        await feed.ReadAsync(0, north, 10, Ct); // the window starts at the head: everything after comes through it
        for (var i = 0; i < 100; i++)
        {
            var scope = (i % 4) switch { 0 => Scope.All, 1 => Scope.Region("north"), 2 => Scope.Region("south"), _ => Scope.Store(i % 8 == 3 ? "s1" : "s2") };
            await _log.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceSet", Key = $"p{i}", Scope = scope, Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
            await _log.AppendAsync(new NewEvent { Topic = "sales", Type = "SaleCompleted", Key = $"b{i}", Scope = Scope.Store("s1"), Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
        }

        var expected = new ReadFilter { Topics = ["prices"], Scopes = north };
        for (var after = 0L; after <= _log.Head; after += 7)
        {
            foreach (var max in new[] { 1, 5, 1000 })
            {
                var fromFeed = await feed.ReadAsync(after, north, max, Ct);
                var fromLog = await _log.ReadAsync(after, expected, max, Ct);
                Assert.Equal(fromLog.Events.Select(e => e.Seq), fromFeed.Events.Select(e => e.Seq));
                if (fromLog.Events.Count == max)
                {
                    Assert.Equal(fromLog.Events[^1].Seq, fromFeed.ScannedTo);
                }
                else
                {
                    // A short page covers everything read: the cursor may move to the head, past events it did not take.
                    Assert.True(fromFeed.ScannedTo >= (fromLog.Events.Count == 0 ? after : fromLog.Events[^1].Seq));
                    var rest = await _log.ReadAsync(fromFeed.Events.Count == 0 ? after : fromFeed.Events[^1].Seq, expected, 1000, Ct);
                    Assert.DoesNotContain(rest.Events, e => e.Seq <= fromFeed.ScannedTo);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
