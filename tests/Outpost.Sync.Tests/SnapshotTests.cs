using Microsoft.Extensions.DependencyInjection;
using Outpost.Central;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Store;
using Outpost.Sync.Hosting;

namespace Outpost.Sync.Tests;

public sealed class SnapshotTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_store_receives_the_compacted_state_first_then_follows_the_feed()
    {
        var directory = Path.Combine(Path.GetTempPath(), "outpost-snapshot-tests", Guid.NewGuid().ToString("N"));
        var topics = new TopicCatalog([new TopicPolicy("prices", TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted)]);
        var hq = CentralHost.Build(new CentralOptions
        {
            DataDirectory = Path.Combine(directory, "hq"),
            Urls = "http://127.0.0.1:0",
            Topics = topics,
            RetentionInterval = TimeSpan.FromMilliseconds(200),
        });
        await hq.StartAsync(Ct);
        var hqLog = hq.Services.GetRequiredService<IEventLog>();
        try
        {
            // Three versions of 100 prices at HQ, then HQ's own retention service compacts them.
            for (var version = 1; version <= 3; version++)
            {
                await hqLog.AppendBatchAsync([.. Enumerable.Range(0, 100).Select(i => Cluster.Sale($"gtin-{i}", $$"""{"price":"{{version}}.{{i:D2}}"}""", topic: "prices"))], cancellationToken: Ct);
            }

            Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(hqLog)).Count == 100, TimeSpan.FromSeconds(30)), "HQ did not compact its price history");

            var secret = (await hq.Services.GetRequiredService<StoreDirectory>().RegisterAsync("new-store", "north", Ct)).Secret;
            var store = StoreHost.Build(new StoreOptions { StoreId = "new-store", DataDirectory = Path.Combine(directory, "store"), Urls = "http://127.0.0.1:0", Topics = topics, Sync = Cluster.FastSync(hq.Address(), secret) });
            await store.StartAsync(Ct);
            var storeLog = store.Services.GetRequiredService<IEventLog>();
            Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(storeLog, ReadFilter.ForTopics("prices"))).Count == 100, TimeSpan.FromSeconds(30)));
            await hqLog.AppendAsync(Cluster.Sale("gtin-7", """{"price":"4.07"}""", topic: "prices"), Ct);
            Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(storeLog, ReadFilter.ForTopics("prices"))).Count == 101, TimeSpan.FromSeconds(30)));

            var prices = await Cluster.ReadAllAsync(storeLog, ReadFilter.ForTopics("prices"));
            await store.StopAsync(Ct);
            await store.DisposeAsync();

            // The snapshot: exactly the newest version of each of the 100 prices, then the new change.
            Assert.All(prices.Take(100), e => Assert.StartsWith("{\"price\":\"3.", System.Text.Encoding.UTF8.GetString(e.Payload.Span), StringComparison.Ordinal));
            Assert.Equal(Enumerable.Range(0, 100).Select(i => $"gtin-{i}"), prices.Take(100).Select(e => e.Key));
            Assert.Equal(("gtin-7", """{"price":"4.07"}"""), (prices[100].Key, System.Text.Encoding.UTF8.GetString(prices[100].Payload.Span)));
        }
        finally
        {
            await hq.StopAsync(CancellationToken.None);
            await hq.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
