using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Retail;
using Outpost.Sync.Faults;
using Outpost.Sync.Hosting;

namespace Outpost.Sync.Tests;

/// <summary>Events a service publishes at the store go up to HQ like the store's own, once, through retries and a cut link.</summary>
public sealed class ServiceEventsReplicationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_services_events_reach_hq_once_each_published_while_the_link_is_down_and_retried()
    {
        await using var cluster = await Cluster.StartAsync(topics: RetailTopics.Catalog);
        await using var link = new FaultProxy(cluster.HqAddress);
        var store = await cluster.StartStoreAsync("s1", "north", via: link.Address);
        using var admin = new HttpClient { BaseAddress = store.App.Address() };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", StoreNode.AdminToken);
        using var enrol = await admin.PostAsJsonAsync("/api/services", JsonDocument.Parse("""{"name":"scale bridge","publish":["stock"]}""").RootElement, Ct);
        enrol.EnsureSuccessStatusCode();
        var token = (await enrol.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString();
        using var service = new HttpClient { BaseAddress = store.App.Address() };
        service.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        link.Mode = ProxyMode.Cut;
        for (var round = 0; round < 2; round++) // the second round is a retry of the first: nothing new
        {
            for (var seq = 1; seq <= 20; seq += 5)
            {
                var events = Enumerable.Range(seq, 5).Select(n => $$$"""{"seq":{{{n}}},"topic":"stock","type":"StockCounted","key":"shelf-{{{n}}}","payload":{"gtin":"04006381333931","quantity":{{{n}}},"by":"scale"}}""");
                using var published = await service.PostAsync("/api/events", new StringContent($$"""{"producer":"scale-1","events":[{{string.Join(',', events)}}]}""", Encoding.UTF8, "application/json"), Ct);
                published.EnsureSuccessStatusCode();
            }
        }

        link.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count(e => e.Topic == "stock") >= 20, TimeSpan.FromSeconds(30)), "the service's events never reached HQ");
        await Task.Delay(500, Ct);
        var atHq = (await cluster.HqEventsFromAsync("s1")).Where(e => e.Topic == "stock").ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(n => $"shelf-{n}"), atHq.Select(e => e.Key));
        Assert.All(atHq, e => Assert.StartsWith("service:", e.CorrelationId, StringComparison.Ordinal));
    }
}
