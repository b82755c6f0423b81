using Outpost.Sync.Faults;
using Outpost.Core.Log;

namespace Outpost.Sync.Tests;

public sealed class ConvergenceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ten_stores_on_flapping_links_converge_with_every_event_once_in_order_and_every_price_where_it_belongs()
    {
        const int stores = 10;
        const int salesPerStore = 10_000;
        const int priceChanges = 1_000;
        await using var cluster = await Cluster.StartAsync();
        var proxies = new List<FaultProxy>();
        var nodes = new List<StoreNode>();
        try
        {
            for (var i = 0; i < stores; i++)
            {
                var proxy = new FaultProxy(cluster.HqAddress, seed: 100 + i);
                proxies.Add(proxy);
                nodes.Add(await cluster.StartStoreAsync($"s{i}", i < stores / 2 ? "r0" : "r1", via: proxy.Address));
            }

            using var flapping = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var flaps = proxies.Select(p => p.FlapAsync(TimeSpan.FromSeconds(10), flapping.Token)).ToList();
            var tills = nodes.Select(node => Task.Run(async () =>
            {
                for (var n = 0; n < salesPerStore; n += 100)
                {
                    await node.Log.AppendBatchAsync([.. Enumerable.Range(n, 100).Select(k => Cluster.Sale($"{node.StoreId}-{k}"))], cancellationToken: Ct);
                }
            }, Ct)).ToList();
            var expected = nodes.ToDictionary(n => n.StoreId, _ => new List<string>());
            for (var i = 0; i < priceChanges; i++)
            {
                var (scope, receivers) = (i % 4) switch
                {
                    0 => ("*", nodes),
                    1 => ("region:r0", nodes.Take(stores / 2).ToList()),
                    2 => ("region:r1", nodes.Skip(stores / 2).ToList()),
                    _ => ($"store:s{i % stores}", [nodes[i % stores]]),
                };
                await cluster.PublishAsync("prices", $"p{i}", scope, $$"""{"price":"{{i}}.00"}""");
                foreach (var receiver in receivers)
                {
                    expected[receiver.StoreId].Add($"p{i}");
                }
            }

            await Task.WhenAll(tills);
            await Task.WhenAll(flaps);
            var last = cluster.HqLog.Head;

            var converged = await Cluster.EventuallyAsync(async () =>
            {
                foreach (var node in nodes)
                {
                    if (await node.AckedUpAsync() < node.Log.Head - 50 || await node.Log.GetCursorAsync("down:hq", Ct) < last)
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(180));
            Assert.True(converged, "the stores did not converge within 3 minutes");

            var hqAll = await Cluster.ReadAllAsync(cluster.HqLog);
            Assert.Equal(hqAll.Count, hqAll.Select(e => (e.Origin.Node, e.Origin.Seq)).Distinct().Count());
            foreach (var node in nodes)
            {
                var atStore = await Cluster.ReadAllAsync(node.Log, ReadFilter.ForTopics("sales"));
                var atHq = hqAll.Where(e => e.Origin.Node.Value == node.StoreId).ToList();
                Assert.Equal(salesPerStore, atStore.Count);
                Assert.True(atStore.Select(e => e.Origin.Seq).SequenceEqual(atHq.Select(e => e.Origin.Seq)), $"{node.StoreId}: HQ holds {atHq.Count} of its {atStore.Count} sales, or not in its order");
                var prices = (await Cluster.ReadAllAsync(node.Log, ReadFilter.ForTopics("prices"))).Select(e => e.Key).ToList();
                Assert.Equal(expected[node.StoreId], prices);
            }
        }
        finally
        {
            foreach (var proxy in proxies)
            {
                await proxy.DisposeAsync();
            }
        }
    }
}
