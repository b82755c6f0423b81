using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Sync.Tests;

public sealed class CrashTests
{
    private const int SalesPerStore = 3000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Store_and_hq_processes_killed_at_random_during_sync_converge_with_nothing_lost_or_doubled()
    {
        var directory = Path.Combine(Path.GetTempPath(), "outpost-crash-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var hqUrl = $"http://127.0.0.1:{ChildProcess.FreePort()}";
        var storeUrls = new Dictionary<string, string> { ["s1"] = $"http://127.0.0.1:{ChildProcess.FreePort()}", ["s2"] = $"http://127.0.0.1:{ChildProcess.FreePort()}" };
        var random = new Random(20261123);
        ChildProcess? hq = null;
        var stores = new Dictionary<string, ChildProcess>();
        var secrets = new Dictionary<string, string>();
        try
        {
            hq = await StartHqAsync(directory, hqUrl, register: true);
            foreach (var line in hq.Lines.Where(l => l.StartsWith("store ", StringComparison.Ordinal)))
            {
                var parts = line.Split(' ');
                secrets[parts[1]] = parts[5];
            }

            foreach (var id in storeUrls.Keys)
            {
                stores[id] = await StartStoreAsync(directory, id, hqUrl, storeUrls[id], secrets[id]);
            }

            // 3,000 sales at 400 a second per store: sales are being recorded and sent through all 10 rounds.
            for (var round = 0; round < 10; round++)
            {
                await Task.Delay(random.Next(200, 1200), Ct);
                var victim = random.Next(4);
                if (victim == 3)
                {
                    // Both sides at once.
                    hq.Kill();
                    stores["s1"].Kill();
                    hq.Dispose();
                    stores["s1"].Dispose();
                    hq = await StartHqAsync(directory, hqUrl, register: false);
                    stores["s1"] = await StartStoreAsync(directory, "s1", hqUrl, storeUrls["s1"], secrets["s1"]);
                }
                else if (victim == 0)
                {
                    hq.Kill();
                    hq.Dispose();
                    hq = await StartHqAsync(directory, hqUrl, register: false);
                }
                else
                {
                    var id = victim == 1 ? "s1" : "s2";
                    stores[id].Kill();
                    stores[id].Dispose();
                    stores[id] = await StartStoreAsync(directory, id, hqUrl, storeUrls[id], secrets[id]);
                }
            }

            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", StoreNode.AdminToken);
            var converged = await Cluster.EventuallyAsync(async () =>
            {
                foreach (var (id, url) in storeUrls)
                {
                    if (!stores[id].Lines.Any(l => l.StartsWith("generated", StringComparison.Ordinal)))
                    {
                        return false;
                    }

                    try
                    {
                        var status = JsonDocument.Parse(await http.GetStringAsync(url + "/api/connectivity", Ct)).RootElement;
                        if (status.GetProperty("upBacklog").GetInt64() != 0 || status.GetProperty("state").GetString() != "Online")
                        {
                            return false;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(120));
            Assert.True(converged, "the stores did not finish and drain within 2 minutes:\n" + string.Join('\n', stores.Values.SelectMany(s => s.Lines).TakeLast(30)));

            hq.Kill();
            foreach (var store in stores.Values)
            {
                store.Kill();
            }

            await using var hqLog = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(directory, "hq", "hq.db"), NodeId = "hq" });
            var atHq = await Cluster.ReadAllAsync(hqLog, ReadFilter.ForTopics("sales"));
            foreach (var id in storeUrls.Keys)
            {
                await using var storeLog = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(directory, id, "store.db"), NodeId = id });
                var atStore = await Cluster.ReadAllAsync(storeLog, ReadFilter.ForTopics("sales"));
                var fromStore = atHq.Where(e => e.Origin.Node.Value == id).ToList();
                Assert.Equal(SalesPerStore, atStore.Count);
                Assert.Equal(Enumerable.Range(0, SalesPerStore).Select(i => $"{id}-{i}"), atStore.Select(e => e.Key));
                Assert.Equal(atStore.Select(e => e.Origin.Seq), fromStore.Select(e => e.Origin.Seq));
                Assert.Equal(atStore.Select(e => e.Key), fromStore.Select(e => e.Key));
            }
        }
        finally
        {
            hq?.Dispose();
            foreach (var store in stores.Values)
            {
                store.Dispose();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<ChildProcess> StartHqAsync(string directory, string url, bool register)
    {
        string[] args = ["central", "--data", Path.Combine(directory, "hq"), "--urls", url, "--admin-token", "t"];
        var hq = ChildProcess.Start(register ? [.. args, "--register", "s1:north", "--register", "s2:south"] : args);
        await hq.WaitForLineAsync(l => l.StartsWith("outpost central listening", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return hq;
    }

    private static async Task<ChildProcess> StartStoreAsync(string directory, string id, string hqUrl, string url, string secret)
    {
        var store = ChildProcess.Start("store", "--id", id, "--central", hqUrl + "/", "--secret", secret, "--data", Path.Combine(directory, id),
            "--urls", url, "--admin-token", StoreNode.AdminToken, "--generate", SalesPerStore.ToString(System.Globalization.CultureInfo.InvariantCulture), "--rate", "400");
        await store.WaitForLineAsync(l => l.StartsWith($"outpost store {id} listening", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return store;
    }
}
