using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Sync.Agent;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>
/// The agent at a lunch peak: sales made one by one go up together, at most one request a gather interval, so HQ
/// serves a fifth of the requests; a backlog still goes at once, in full batches.
/// </summary>
public sealed class UpGatherTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-gather-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Sales_made_one_by_one_go_up_together_at_most_one_request_a_gather_interval_and_a_backlog_goes_at_once()
    {
        await using var cluster = await Cluster.StartAsync();
        var credential = await cluster.RegisterAsync("s1", "north");
        var options = Cluster.FastSync(cluster.HqAddress, credential.Secret);
        options.StoreId = "s1";
        options.Gather = TimeSpan.FromSeconds(1);
        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = "s1", Topics = Cluster.Topics });
        var batches = new BatchCounter();
        var monitor = new ConnectivityMonitor(TimeProvider.System);
        using var client = new SyncClient(options, monitor, batches);
        using var agent = new ReplicationAgent(log, client, monitor, Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
        await agent.StartAsync(Ct);
        try
        {
            Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(monitor.Current.State == ConnectivityState.Online), TimeSpan.FromSeconds(30)));

            // 30 sales, one every 100 ms: about 3 s of a busy till.
            for (var i = 0; i < 30; i++)
            {
                await log.AppendAsync(Cluster.Sale($"t{i}"), Ct);
                await Task.Delay(100, Ct);
            }

            Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count(e => e.Topic == "sales") == 30, TimeSpan.FromSeconds(30)),
                "HQ never held the 30 sales");
            var trickle = batches.Sizes();

            // One request for the first sale, then one a second: 4 or so, never one a sale (30 without gathering).
            Assert.Equal(30, trickle.Sum());
            Assert.InRange(trickle.Count, 2, 8);
            Assert.True(trickle.Max() >= 5, $"batch sizes: {string.Join(", ", trickle)}");

            // A backlog (more than a tenth of a batch) does not wait: 1,500 sales recorded at once go up in full batches.
            batches.Clear();
            await log.AppendBatchAsync([.. Enumerable.Range(0, 1500).Select(i => Cluster.Sale($"b{i}"))], cancellationToken: Ct);
            Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count(e => e.Topic == "sales") == 1530, TimeSpan.FromSeconds(30)),
                "HQ never held the backlog");
            var backlog = batches.Sizes();
            Assert.Equal(1500, backlog.Sum());
            Assert.True(backlog.Max() >= options.MaxBatchEvents / 2 || backlog.Count == 1, $"batch sizes: {string.Join(", ", backlog)}");
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_store_with_no_up_topics_follows_HQ_and_its_up_link_never_fails()
    {
        // A node that only receives (a menu-board server, say): the up link has no lanes and must idle, not fail.
        await using var cluster = await Cluster.StartAsync();
        var credential = await cluster.RegisterAsync("s1", "north");
        var options = Cluster.FastSync(cluster.HqAddress, credential.Secret);
        options.StoreId = "s1";
        var downOnly = new Outpost.Core.Topics.TopicCatalog(Cluster.Topics.InDirection(Outpost.Core.Topics.TopicDirection.Down));
        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = "s1", Topics = downOnly });
        var monitor = new ConnectivityMonitor(TimeProvider.System);
        using var client = new SyncClient(options, monitor);
        using var agent = new ReplicationAgent(log, client, monitor, Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
        await agent.StartAsync(Ct);
        try
        {
            await cluster.PublishAsync("prices", "p1", "*", """{"price":"1.00"}""");
            Assert.True(await Cluster.EventuallyAsync(async () => await log.CountAsync(0, ReadFilter.ForTopics("prices"), Ct) == 1, TimeSpan.FromSeconds(30)),
                "the store never received HQ's price");
            Assert.Equal(ConnectivityState.Online, monitor.Current.State);
            Assert.Null(monitor.Current.LastError);
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_store_whose_clock_jumps_hours_back_keeps_sending_each_sale_at_once(int gatherSeconds)
    {
        // A store's clock set back by hand, or by a bad NTP answer: the agent's intervals run on the monotonic clock.
        // Before, a store whose clock jumped back two hours sent nothing more for two hours, gathering on or off.
        await using var cluster = await Cluster.StartAsync();
        var credential = await cluster.RegisterAsync("s1", "north");
        var options = Cluster.FastSync(cluster.HqAddress, credential.Secret);
        options.StoreId = "s1";
        options.Gather = TimeSpan.FromSeconds(gatherSeconds);
        var clock = new JumpingClock();
        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = "s1", Topics = Cluster.Topics, Time = clock });
        var monitor = new ConnectivityMonitor(clock);
        using var client = new SyncClient(options, monitor);
        using var agent = new ReplicationAgent(log, client, monitor, Options.Create(options), clock, NullLoggerFactory.Instance);
        await agent.StartAsync(Ct);
        try
        {
            for (var i = 0; i < 4; i++)
            {
                if (i == 1)
                {
                    clock.Offset = TimeSpan.FromHours(-2);
                }

                if (i == 3)
                {
                    clock.Offset = TimeSpan.FromHours(-2.5); // and once more, a little further
                }

                await log.AppendAsync(Cluster.Sale($"c{i}"), Ct);
                Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count(e => e.Topic == "sales") == i + 1, TimeSpan.FromSeconds(30)),
                    $"sale {i + 1} did not reach HQ within 30 s of its store's clock jumping back");
            }
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
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

    /// <summary>Sees every up request the agent sends and notes how many sales each carried (heartbeats carry none).</summary>
    private sealed class BatchCounter : DelegatingHandler
    {
        private readonly List<int> _sizes = [];

        public List<int> Sizes()
        {
            lock (_sizes)
            {
                return [.. _sizes];
            }
        }

        public void Clear()
        {
            lock (_sizes)
            {
                _sizes.Clear();
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith(SyncWire.UpPath, StringComparison.Ordinal) && request.Content is { } content)
            {
                var body = await content.ReadAsByteArrayAsync(cancellationToken);
                var sales = EventBatchCodec.DecodeCompressed(body, content.Headers.ContentEncoding.FirstOrDefault(), int.MaxValue, int.MaxValue, int.MaxValue, out _)
                    .Count(e => e.Topic == "sales");
                if (sales > 0)
                {
                    lock (_sizes)
                    {
                        _sizes.Add(sales);
                    }
                }
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>A wall clock set wrong by <see cref="Offset"/>; timers and elapsed time run true, as on a real machine.</summary>
    private sealed class JumpingClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }
}
