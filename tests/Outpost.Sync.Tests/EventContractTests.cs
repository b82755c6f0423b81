using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Central;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Sync.Hosting;

namespace Outpost.Sync.Tests;

/// <summary>HQ's raw publishing endpoint checks every event against its contract; HQ and the store serve the contracts.</summary>
public sealed class EventContractTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Hq_refuses_an_event_its_contract_does_not_allow_naming_the_field_and_stores_nothing()
    {
        await using var cluster = await Cluster.StartAsync(topics: RetailTopics.Catalog, configure: hq => hq.Contracts = CentralOptions.DefaultContracts);
        var store = await cluster.StartStoreAsync("s1", "north");
        var head = cluster.HqLog.Head;

        // What a new user tried: a PriceSet with a made-up payload, and a made-up type on a topic no policy names.
        await RefusedAsync(cluster, Publish("prices", "PriceSet", """{"hello":1}"""), ("payload", "gtin"), ("payload", "amount"), ("payload.hello", "Not a field"));
        await RefusedAsync(cluster, Publish("nope", "X", "{}"), ("topic", "No topic policy names 'nope'"));

        // Every other way to be wrong names what is wrong.
        await RefusedAsync(cluster, Publish("sales", "SaleCompleted", "{}"), ("topic", "'sales' is not sent down"));
        await RefusedAsync(cluster, Publish("prices", "PriceChanged", "{}"), ("type", "'PriceChanged' is not an event type of topic 'prices'; its types are PriceSet"));
        await RefusedAsync(cluster, Publish("prices", "PriceSet", Price("1.99"), version: 2), ("version", "PriceSet has no version 2; it has 1"));
        await RefusedAsync(cluster, Publish("prices", "PriceSet", Price("\"cheap\"")), ("payload.amount", ""));
        await RefusedAsync(cluster, Publish("prices", "PriceSet", Price("1.99").Replace("\"EUR\"", "7", StringComparison.Ordinal)), ("payload.currency", ""));
        await RefusedAsync(cluster, Publish("prices", "PriceSet", Price("1.99").Replace("2026-12-01T06:00:00", "tomorrow", StringComparison.Ordinal)), ("payload.fromLocal", ""));
        await RefusedAsync(cluster, Publish("products", "ProductUpserted", """{"gtin":"4000000000017","name":"Oat milk","category":"dairy","taxClass":"reduced","unit":"Litre","imageUrl":null,"attributes":null}"""),
            ("payload.unit", ""));
        await RefusedAsync(cluster, """{"topic":"prices","type":"PriceSet","scope":"*","payload":{}}""", ("key", "Required"));
        Assert.Equal(head, cluster.HqLog.Head);

        // A malformed body says what is wrong with it, not a bare "Bad Request".
        using (var malformed = await cluster.Admin.PostAsync("admin/events", new StringContent("""{"topic":"prices","type":""", Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            var problem = JsonDocument.Parse(await malformed.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Contains("open JSON object", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(head, cluster.HqLog.Head);

        // The same event done right is stored and reaches the store.
        using var ok = await cluster.Admin.PostAsync("admin/events", Json(Publish("prices", "PriceSet", Price("1.99"))), Ct);
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("prices"))).Count == 1, Bound), "the price never reached the store");
    }

    [Fact]
    public async Task Hq_and_the_store_serve_every_contract_as_json_schema()
    {
        await using var cluster = await Cluster.StartAsync(topics: RetailTopics.Catalog, configure: hq => hq.Contracts = CentralOptions.DefaultContracts);
        var store = await cluster.StartStoreAsync("s1", "north");
        using var storeClient = new HttpClient { BaseAddress = store.App.Address() };
        using var anonymous = new HttpClient { BaseAddress = cluster.HqAddress };

        foreach (var (client, mustHave) in new[] { (anonymous, "prices/PriceSet/1"), (storeClient, "schedule/PricesChanged/1") })
        {
            var index = JsonDocument.Parse(await client.GetStringAsync("contracts", Ct)).RootElement.EnumerateArray()
                .Select(c => c.GetProperty("href").GetString()!).ToList();
            Assert.Contains("/contracts/" + mustHave, index);
            Assert.Contains("/contracts/sales/SaleCompleted/2", index);

            using var schema = await client.GetAsync("contracts/prices/PriceSet/1", Ct);
            Assert.Equal(ContractEndpoints.SchemaMediaType, schema.Content.Headers.ContentType?.MediaType);
            var root = JsonDocument.Parse(await schema.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("urn:outpost:event:prices:PriceSet:v1", root.GetProperty("$id").GetString());
            Assert.Equal(["gtin", "amount", "currency", "fromLocal", "toLocal"], root.GetProperty("required").EnumerateArray().Select(r => r.GetString()));

            using var unknown = await client.GetAsync("contracts/prices/PriceSet/9", Ct);
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // HQ does not serve a store's local types: they never reach it.
        using var local = await anonymous.GetAsync("contracts/schedule/PricesChanged/1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, local.StatusCode);
    }

    private static string Price(string amount) =>
        $$"""{"gtin":"4000000000017","amount":{{amount}},"currency":"EUR","fromLocal":"2026-12-01T06:00:00","toLocal":null}""";

    private static string Publish(string topic, string type, string payload, int version = 1) =>
        $$"""{"topic":"{{topic}}","type":"{{type}}","key":"k1","scope":"*","version":{{version}},"payload":{{payload}}}""";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task RefusedAsync(Cluster cluster, string body, params (string Field, string Says)[] expected)
    {
        using var response = await cluster.Admin.PostAsync("admin/events", Json(body), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode} for {body}: {text}");
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors").EnumerateArray()
            .Select(e => (Field: e.GetProperty("field").GetString()!, Message: e.GetProperty("message").GetString()!)).ToList();
        foreach (var (field, says) in expected)
        {
            Assert.True(errors.Any(e => e.Field == field && e.Message.Contains(says, StringComparison.Ordinal)),
                $"no error on {field} saying '{says}' for {body}; got: {string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"))}");
        }
    }
}
