using Microsoft.Extensions.Logging.Abstractions;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Sync.Agent;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>
/// The agent's links run a round at a time (the fleet simulation's stand-ins): a round sends everything waiting and
/// takes everything HQ has; a round the link fails keeps what HQ acknowledged, and the next sends the rest, once.
/// </summary>
public sealed class ReplicationRoundsTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-rounds-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Stores_that_share_one_connection_pool_each_send_as_themselves_and_a_store_closed_leaves_the_pool_to_the_others()
    {
        await using var cluster = await Cluster.StartAsync();
        using var pool = new SocketsHttpHandler { MaxConnectionsPerServer = 2 };
        var clients = new List<SyncClient>();
        foreach (var id in new[] { "s1", "s2", "s3" })
        {
            var options = Cluster.FastSync(cluster.HqAddress, (await cluster.RegisterAsync(id, "north")).Secret);
            options.StoreId = id;
            clients.Add(new SyncClient(options, connections: pool));
        }

        // Each store's batch is its own (its credential goes with each request), over at most two connections.
        await Task.WhenAll(clients.Select((client, i) => client.SendUpAsync([Stored($"s{i + 1}", 1)], null, Ct)));
        foreach (var id in new[] { "s1", "s2", "s3" })
        {
            Assert.Single(await cluster.HqEventsFromAsync(id));
        }

        // A store closed does not close the pool under the others.
        clients[0].Dispose();
        var ack = await clients[1].SendUpAsync([Stored("s2", 2)], null, Ct);
        Assert.Equal(1, ack.Accepted);
        clients[2].Dispose();
        clients[1].Dispose();

        // A borrowed pool carries no TLS settings of the store's: refused over HTTPS.
        var tls = new SyncClientOptions { Central = new Uri("https://hq.example/"), StoreId = "s1", Secret = "x" };
        Assert.Throws<ArgumentException>(() => new SyncClient(tls, connections: pool));
    }

    private static Core.Events.StoredEvent Stored(string store, long seq) => new()
    {
        Seq = seq,
        Topic = "sales",
        Type = "SaleCompleted",
        Version = 1,
        Key = $"{store}-{seq}",
        Scope = Core.Events.Scope.Store(store),
        Origin = new Core.Events.EventOrigin(Core.Events.NodeId.Parse(store), seq, Core.Events.HlcTimestamp.From(1_790_000_000_000 + seq, 0)),
        Payload = System.Text.Encoding.UTF8.GetBytes("""{"total":"1.00"}"""),
    };

    [Fact]
    public async Task A_round_sends_everything_waiting_and_takes_everything_HQ_has_and_a_failed_round_is_made_good_by_the_next_once()
    {
        await using var cluster = await Cluster.StartAsync();
        var credential = await cluster.RegisterAsync("s1", "north");
        var options = Cluster.FastSync(cluster.HqAddress, credential.Secret);
        options.StoreId = "s1";
        options.MaxBatchEvents = 500;
        options.MaxInFlight = 1; // one batch at a time: which answer is lost is then the second batch's
        var path = Path.Combine(_directory, "store.db");
        var link = new Link();
        for (var p = 0; p < 3; p++)
        {
            await cluster.PublishAsync("prices", "p" + p, "*", $$"""{"price":"{{p}}.00"}""");
        }

        await using (var log = SqliteEventLog.Open(new LogOptions { Path = path, NodeId = "s1", Topics = Cluster.Topics }))
        {
            var monitor = new ConnectivityMonitor(TimeProvider.System);
            using var client = new SyncClient(options, monitor, link);
            var rounds = new ReplicationRounds(log, client, monitor, options, TimeProvider.System, NullLoggerFactory.Instance);
            await log.AppendBatchAsync([.. Enumerable.Range(0, 1200).Select(i => Cluster.Sale($"a{i}"))], cancellationToken: Ct);

            // The link is down: the round fails, says why, and nothing moved.
            link.Down = true;
            await Assert.ThrowsAsync<HttpRequestException>(() => rounds.RoundAsync(Ct));
            Assert.NotEqual(ConnectivityState.Online, monitor.Current.State);
            Assert.Contains("link down", monitor.Current.LastError, StringComparison.Ordinal);
            Assert.Empty(await cluster.HqEventsFromAsync("s1"));

            // Back, but the answer to the second of the three batches is lost after HQ stored it: the round fails, and
            // the store knows only the first as acknowledged, though HQ holds two.
            link.Down = false;
            link.DropAnswerToUp = 2;
            await Assert.ThrowsAsync<HttpRequestException>(() => rounds.RoundAsync(Ct));
            Assert.Equal(1000, (await cluster.HqEventsFromAsync("s1")).Count);
            Assert.Contains("answer was lost", monitor.Current.LastError, StringComparison.Ordinal);
            Assert.Equal(700, monitor.Current.UpBacklog);

            // The next round sends the rest (and the lost answer's batch again, which HQ drops), then takes HQ's prices.
            await rounds.RoundAsync(Ct);
            Assert.Equal(ConnectivityState.Online, monitor.Current.State);
            Assert.Equal((0L, 0L), (monitor.Current.UpBacklog, monitor.Current.DownLag));
            Assert.Equal(3, await log.CountAsync(0, ReadFilter.ForTopics("prices"), Ct));
            var atHq = await cluster.HqEventsFromAsync("s1");
            Assert.Equal(1200, atHq.Count);
            Assert.Equal(1200, atHq.Select(e => e.Origin.Seq).Distinct().Count());
            Assert.Equal(1200, await log.GetCursorAsync("up:hq:critical", Ct));

            // Nothing new: a round sends no batch.
            var posts = link.UpPosts;
            await rounds.RoundAsync(Ct);
            Assert.Equal(posts, link.UpPosts);
        }

        // A crash and a start on the same file: the first round sends only what is new and takes only what is new.
        await cluster.PublishAsync("prices", "p9", "*", """{"price":"9.00"}""");
        await using (var log = SqliteEventLog.Open(new LogOptions { Path = path, NodeId = "s1", Topics = Cluster.Topics }))
        {
            await log.AppendAsync(Cluster.Sale("after-restart"), Ct);
            var monitor = new ConnectivityMonitor(TimeProvider.System);
            using var client = new SyncClient(options, monitor, new Link());
            await new ReplicationRounds(log, client, monitor, options, TimeProvider.System, NullLoggerFactory.Instance).RoundAsync(Ct);
            Assert.Equal(1201, (await cluster.HqEventsFromAsync("s1")).Count);
            Assert.Equal(4, await log.CountAsync(0, ReadFilter.ForTopics("prices"), Ct));
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>The store's link: down (connections refused), or losing the answer to the Nth up batch after HQ acted on it.</summary>
    private sealed class Link : DelegatingHandler
    {
        private int _upPosts;

        public volatile bool Down;

        public int DropAnswerToUp;

        public int UpPosts => Volatile.Read(ref _upPosts);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Down)
            {
                throw new HttpRequestException("simulated link down");
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith(SyncWire.UpPath, StringComparison.Ordinal)
                && Interlocked.Increment(ref _upPosts) == DropAnswerToUp)
            {
                response.Dispose();
                throw new HttpRequestException("simulated drop: the answer was lost after HQ stored the batch");
            }

            return response;
        }
    }
}
