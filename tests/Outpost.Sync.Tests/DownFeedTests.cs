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
