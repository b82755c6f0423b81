using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Outpost.Core.Postgres;

namespace Outpost.Sync.Tests;

/// <summary>
/// HQ on PostgreSQL while its database crashes and comes back, on a server of its own (the shared one serves other
/// tests): HQ answers 503 with Retry-After and a reason, stays up, and serves again once the database is back; a
/// store's sales sent meanwhile arrive once, after it.
/// </summary>
public sealed class HqDatabaseOutageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HQ_answers_503_while_its_database_is_down_stays_up_and_takes_the_store_s_sales_once_it_is_back()
    {
        await using var postgres = new LocalPostgresServer(durable: true);
        await postgres.StartAsync();
        await using var cluster = await Cluster.StartAsync(await postgres.CreateDatabaseAsync(Ct));
        var credential = await cluster.RegisterAsync("s1", "north");
        await using var store = await cluster.StartStoreAsync("s1", "north", secret: credential.Secret);
        await store.Log.AppendAsync(Cluster.Sale("before"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 1, TimeSpan.FromSeconds(30)));

        await postgres.CrashAsync();
        await store.Log.AppendAsync(Cluster.Sale("during"), Ct);
        using (var refused = await cluster.Admin.GetAsync("/admin/stores", Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(Central.DatabaseOutage.RetryAfterSeconds), refused.Headers.RetryAfter?.Delta);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("HQ's database is unavailable", problem.GetProperty("title").GetString());
        }

        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // the store tries meanwhile, the node's background work fails meanwhile
        Assert.False(cluster.Hq.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "HQ stopped when its database went away");

        await postgres.StartAgainAsync();
        Assert.True(await Cluster.EventuallyAsync(async () =>
        {
            using var response = await cluster.Admin.GetAsync("/admin/stores", Ct);
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(60)), "HQ did not serve again within 60 s of its database's return");
        Assert.True(await Cluster.EventuallyAsync(async () =>
        {
            try
            {
                return (await cluster.HqEventsFromAsync("s1")).Count == 2;
            }
            catch (Npgsql.NpgsqlException)
            {
                return false; // a pooled connection from before the crash
            }
        }, TimeSpan.FromSeconds(60)), "the sale sent while HQ's database was down did not arrive within 60 s of its return");
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.Equal(["before", "during"], (await cluster.HqEventsFromAsync("s1")).Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.False(cluster.Hq.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        using var price = await cluster.Admin.PostAsJsonAsync("/admin/events", new { topic = "prices", type = "PriceChanged", key = "p1", scope = "*", payload = new { price = 1.5 } }, Ct);
        Assert.True(price.IsSuccessStatusCode, await price.Content.ReadAsStringAsync(Ct));
    }
}
