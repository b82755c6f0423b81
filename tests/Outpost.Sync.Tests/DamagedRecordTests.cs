using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Sync.Agent;

namespace Outpost.Sync.Tests;

/// <summary>
/// A record of a store's log damaged on disk (a flipped bit in a sale): the up link never sends it, reports it to HQ
/// and the back office, and goes on with every sale after it, across restarts.
/// </summary>
public sealed class DamagedRecordTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_damaged_sale_is_reported_never_sent_and_the_sales_after_it_still_reach_hq()
    {
        await using var cluster = await Cluster.StartAsync();
        var secret = (await cluster.RegisterAsync("s1", "north")).Secret;
        var directory = Path.Combine(cluster.Directory, "s1");

        // The store sells 40 sales while HQ is out of reach (port 1 refuses), then stops, its log checkpointed.
        var offline = Cluster.FastSync(new Uri("http://127.0.0.1:1/"), secret);
        await using (var store = new StoreNode("s1", directory, offline, cluster.Catalog, "north"))
        {
            await store.StartAsync();
            var pad = new string('x', 160);
            for (var i = 1; i <= 40; i++)
            {
                await store.Log.AppendAsync(Cluster.Sale($"sale-{i}", $$"""{"marker":"M{{i:D5}}M","pad":"{{pad}}"}"""), Ct);
            }
        }

        var damagedSeq = await FlipABitOfAsync(Path.Combine(directory, "store.db"), "M00020M");

        var online = Cluster.FastSync(cluster.HqAddress, secret);
        await using (var store = new StoreNode("s1", directory, online, cluster.Catalog, "north"))
        {
            await store.StartAsync();
            await store.Log.AppendAsync(Cluster.Sale("sale-41"), Ct);

            // Every sale but the damaged one reaches HQ: one damaged record does not hold back the rest.
            Assert.True(await Cluster.EventuallyAsync(async () => (await SalesAtHqAsync(cluster)).Count >= 40, TimeSpan.FromSeconds(30)),
                $"HQ holds {(await SalesAtHqAsync(cluster)).Count} of the 40 intact sales; the store says: {store.Connectivity.Current}");
            var atHq = await SalesAtHqAsync(cluster);
            Assert.Equal(40, atHq.Count);
            Assert.DoesNotContain("sale-20", atHq);
            Assert.Contains("sale-41", atHq);

            // Reported: on the store's status (the back office shows it) and to HQ, whose fleet view shows it.
            Assert.Equal((1, damagedSeq), (store.Connectivity.Current.NotSent, store.Connectivity.Current.LastNotSent));
            Assert.True(await Cluster.EventuallyAsync(async () => (await FleetErrorAsync(cluster))?.Contains("damaged record", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(30)),
                $"HQ's fleet view does not show the damaged record; it shows: {await FleetErrorAsync(cluster)}");
            Assert.Contains($"event {damagedSeq}", await FleetErrorAsync(cluster), StringComparison.Ordinal);
            using var backOffice = await StatusAsync(store);
            Assert.Equal(1, backOffice.RootElement.GetProperty("notSent").GetInt32());

            // The store stays ready for its tills: taking it out of service would stop them for a record they do not need.
            using var http = new HttpClient { BaseAddress = Outpost.Sync.Hosting.HostAddress.Address(store.App) };
            using var ready = await http.GetAsync("health/ready", Ct);
            var readyText = await ready.Content.ReadAsStringAsync(Ct);
            Assert.True(ready.IsSuccessStatusCode, readyText);
            Assert.Contains("damaged record", readyText, StringComparison.Ordinal);
        }

        // After a restart the store still knows and says so, steps over it once (one record of it), and sends nothing twice.
        await using (var store = new StoreNode("s1", directory, online, cluster.Catalog, "north"))
        {
            await store.StartAsync();
            await store.Log.AppendAsync(Cluster.Sale("sale-42"), Ct);
            Assert.True(await Cluster.EventuallyAsync(async () => (await SalesAtHqAsync(cluster)).Contains("sale-42"), TimeSpan.FromSeconds(30)), "sale-42 did not reach HQ");
            Assert.Equal((1, damagedSeq), (store.Connectivity.Current.NotSent, store.Connectivity.Current.LastNotSent));
            var atHq = await SalesAtHqAsync(cluster);
            Assert.Equal(41, atHq.Count);
            Assert.Equal(atHq.Count, atHq.Distinct().Count());
            var recorded = await Cluster.ReadAllAsync(store.Log, new ReadFilter { Topics = [ReplicationAgent.ConnectivityTopic], Types = ["RecordNotSent"] });
            Assert.Equal([$"not-sent:{damagedSeq}"], recorded.Select(e => e.Key).Distinct());
        }
    }

    /// <summary>Flips one bit of a marker in every copy SQLite keeps of its cell; returns the damaged record's position.</summary>
    private static async Task<long> FlipABitOfAsync(string path, string marker)
    {
        Assert.False(File.Exists(path + "-wal") && new FileInfo(path + "-wal").Length > 0, "the store's log should be checkpointed when it stops");
        long seq;
        await using (var log = SqliteEventLog.Open(new LogOptions { Path = path, NodeId = "s1", Topics = Cluster.Topics }))
        {
            var all = await Cluster.ReadAllAsync(log);
            seq = all.Single(e => Encoding.UTF8.GetString(e.Payload.Span).Contains(marker, StringComparison.Ordinal)).Seq;
        }

        await Outpost.Testing.BitRot.FlipMarkerAsync(path, marker, Ct);
        return seq;
    }

    private static async Task<List<string>> SalesAtHqAsync(Cluster cluster) =>
        [.. (await cluster.HqEventsFromAsync("s1")).Where(e => e.Topic == "sales").Select(e => e.Key)];

    private static async Task<string?> FleetErrorAsync(Cluster cluster)
    {
        var fleet = await cluster.Admin.GetFromJsonAsync<JsonElement>("admin/fleet", Ct);
        var store = fleet.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == "s1");
        return store.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String ? error.GetString() : null;
    }

    private static async Task<JsonDocument> StatusAsync(StoreNode store)
    {
        using var http = new HttpClient { BaseAddress = Outpost.Sync.Hosting.HostAddress.Address(store.App) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", StoreNode.AdminToken);
        return JsonDocument.Parse(await http.GetStringAsync("api/connectivity", Ct));
    }
}
