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
    public async Task A_held_poll_wakes_for_a_down_event_in_its_own_scopes_only_and_not_for_store_uploads()
    {
        Scope[] mine = [Scope.All, Scope.Region("north"), Scope.Store("s1")];
        await using var feed = new DownFeed(_log);
        var at = (await feed.ReadAsync(_log.Head, mine, 10, Ct)).ScannedTo;
        var held = feed.WaitForDownAsync(at, mine, Ct).AsTask();

        // Store uploads: HQ commits them all day long; 20,000 held polls must not wake for each.
        for (var i = 0; i < 50; i++)
        {
            await _log.AppendAsync(new NewEvent { Topic = "sales", Type = "SaleCompleted", Key = $"b{i}", Scope = Scope.Store("s1"), Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
        }

        // Nor for another store's price, or another region's.
        await Price("p0", Scope.Store("s9"));
        await Price("p1", Scope.Region("south"));
        await Task.Delay(300, Ct);
        Assert.False(held.IsCompleted, "a held poll woke for store uploads or another scope's prices");

        // Each of its own scopes wakes it, once: waiting again past what it read, it sleeps.
        foreach (var (key, scope) in new[] { ("p2", Scope.Region("north")), ("p3", Scope.Store("s1")), ("p4", Scope.All) })
        {
            await Price(key, scope);
            await held.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            var page = await feed.ReadAsync(at, mine, 10, Ct);
            Assert.Equal(key, Assert.Single(page.Events).Key);
            at = page.ScannedTo;
            held = feed.WaitForDownAsync(at, mine, Ct).AsTask();
            await Task.Delay(200, Ct);
            Assert.False(held.IsCompleted, "a poll woke again for an event it had already passed");
        }

        async Task Price(string key, Scope scope) =>
            await _log.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceSet", Key = key, Scope = scope, Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
    }

    [Fact]
    public async Task A_poll_for_a_scope_nobody_waited_on_yet_still_wakes_for_an_event_found_before_it_began_to_wait()
    {
        Scope[] mine = [Scope.Store("s7")];
        await using var feed = new DownFeed(_log);
        var at = (await feed.ReadAsync(_log.Head, mine, 10, Ct)).ScannedTo;

        // The feed finds the price (another poll's read brings the window up) before this store's poll waits.
        await _log.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceSet", Key = "late", Scope = Scope.Store("s7"), Payload = Encoding.UTF8.GetBytes("{}") }, Ct);
        await feed.ReadAsync(at, [Scope.All], 10, Ct);
        await feed.WaitForDownAsync(at, mine, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal("late", Assert.Single((await feed.ReadAsync(at, mine, 10, Ct)).Events).Key);
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

    [Fact]
    public async Task Streams_sending_the_same_events_share_one_encoded_body_and_other_pages_get_their_own()
    {
        await using var feed = new DownFeed(_log);
        Scope[] north = [Scope.All, Scope.Region("north"), Scope.Store("s1")];
        Scope[] northToo = [Scope.All, Scope.Region("north"), Scope.Store("s2")];
        Scope[] south = [Scope.All, Scope.Region("south"), Scope.Store("s3")];
        var before = _log.Head;
        foreach (var (key, scope) in new[] { ("all", Scope.All), ("north", Scope.Region("north")), ("south", Scope.Region("south")) })
        {
            await _log.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceSet", Key = key, Scope = scope, Payload = Encoding.UTF8.GetBytes($$"""{"key":"{{key}}"}""") }, Ct);
        }

        var s1 = await feed.ReadAsync(before, north, 10, Ct);
        var s2 = await feed.ReadAsync(before, northToo, 10, Ct);
        var s3 = await feed.ReadAsync(before, south, 10, Ct);
        var (body1, compressed1) = feed.Encoded(s1.Events, zstd: true);
        var (body2, _) = feed.Encoded(s2.Events, zstd: true);
        var (body3, _) = feed.Encoded(s3.Events, zstd: true);
        var (plain, compressedPlain) = feed.Encoded(s1.Events, zstd: false);

        Assert.Same(body1, body2); // two stores of the north, the same two events: encoded once
        Assert.NotSame(body1, body3);
        Assert.Equal(["all", "north"], Protocol.EventBatchCodec.Decode(body1, 10, 1024).Select(e => e.Key));
        Assert.Equal(["all", "south"], Protocol.EventBatchCodec.Decode(body3, 10, 1024).Select(e => e.Key));
        Assert.Equal((false, false), (compressed1, compressedPlain)); // a small page is not worth compressing
        Assert.Equal(body1, plain);
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
