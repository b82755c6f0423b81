using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Retail.Inventory;

namespace Outpost.Store.Tests;

/// <summary>Another team's service at the store: enrolled with a grant, publishing idempotently by its producer's sequence.</summary>
public sealed class ServiceEventsTests : IAsyncLifetime
{
    private StoreServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await StoreServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAndDeleteAsync();

    [Fact]
    public async Task A_service_publishes_what_its_grant_allows_once_however_often_it_retries()
    {
        var (service, id) = await EnrolAsync("scale bridge", publish: ["stock"], read: ["prices"]);
        var before = await _server.CountAsync("stock");

        var first = await PublishOkAsync(service, "scale-1", 1, 3);
        Assert.Equal((3L, 3, 0), (first.GetProperty("through").GetInt64(), first.GetProperty("appended").GetInt32(), first.GetProperty("duplicates").GetInt32()));
        Assert.Equal(3, first.GetProperty("positions").GetArrayLength());

        // The answer was lost, the service sends the same again, and again with one more: each event is in the log once.
        var retry = await PublishOkAsync(service, "scale-1", 1, 3);
        Assert.Equal((0, 3), (retry.GetProperty("appended").GetInt32(), retry.GetProperty("duplicates").GetInt32()));
        var overlapping = await PublishOkAsync(service, "scale-1", 2, 3);
        Assert.Equal((4L, 1, 2), (overlapping.GetProperty("through").GetInt64(), overlapping.GetProperty("appended").GetInt32(), overlapping.GetProperty("duplicates").GetInt32()));

        // Another producer of the same service numbers its own events.
        await PublishOkAsync(service, "scale-2", 1, 1);

        var events = (await _server.Log.ReadAsync(0, ReadFilter.ForTopics("stock"), 1000, Ct)).Events.Skip(before).ToList();
        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.StartsWith($"service:{id}:", e.CorrelationId, StringComparison.Ordinal));
        Assert.All(events, e => Assert.Equal("store:s-042", e.Scope.ToString()));
        Assert.Equal(["shelf-1", "shelf-2", "shelf-3", "shelf-4", "shelf-1"], events.Select(e => e.Key));
        Assert.Equal(4.5m, events[3].Deserialize(InventoryJsonContext.Default.StockCountedV1).Quantity);
    }

    [Fact]
    public async Task What_a_service_may_not_do_is_refused_saying_why_and_writes_nothing()
    {
        var (service, _) = await EnrolAsync("scale bridge", publish: ["stock"], read: []);
        var head = _server.Log.Head;

        await RefusedAsync(service, Batch("scale-1", 1, 1, topic: "sales"), HttpStatusCode.Forbidden, "may not publish to 'sales'; it may publish to stock");
        await RefusedAsync(service, Batch("scale-1", 5, 1), HttpStatusCode.Conflict, "the next event is 1, not 5");
        await RefusedAsync(service, Batch("scale-1", 1, 1, payload: """{"gtin":"00000000000001","quantity":"lots","by":"scale"}"""), HttpStatusCode.UnprocessableEntity, "events[0].payload.quantity");
        await RefusedAsync(service, Batch("scale-1", 1, 1, type: "StockWeighed"), HttpStatusCode.UnprocessableEntity, "'StockWeighed' is not an event type of topic 'stock'");
        await RefusedAsync(service, """{"producer":"scale 1","events":[]}""", HttpStatusCode.BadRequest, "'producer' is required");
        await RefusedAsync(service, """{"producer":"scale-1","events":[{"seq":1,"topic":"stock","type":"StockCounted","key":"k","payload":{"gtin":"1","quantity":1,"by":"s"}},{"seq":3,"topic":"stock","type":"StockCounted","key":"k","payload":{"gtin":"1","quantity":1,"by":"s"}}]}""",
            HttpStatusCode.BadRequest, "events[1].seq is 3");
        await RefusedAsync(service, """{"producer":"scale-1","sparse":true,"events":[{"seq":9,"topic":"stock","type":"StockCounted","key":"k","payload":{"gtin":"1","quantity":1,"by":"s"}},{"seq":9,"topic":"stock","type":"StockCounted","key":"k","payload":{"gtin":"1","quantity":1,"by":"s"}}]}""",
            HttpStatusCode.BadRequest, "events[1].seq is 9: a sparse producer's sequences");
        Assert.Equal(head, _server.Log.Head);

        // A till is no service; a service is no till; a revoked service is nobody.
        var (till, _, _) = await _server.DeviceAsync("till");
        using (var byTill = await till.PostAsync("/api/events", Json(Batch("t", 1, 1)), Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, byTill.StatusCode);
        }

        using (var basket = await service.PostAsJsonAsync("/api/baskets", new { }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, basket.StatusCode);
        }

        using var admin = _server.Client();
        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/services", Ct);
        var id = listed.EnumerateArray().Single().GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/devices/{id}", Ct)).StatusCode);
        using var revoked = await service.PostAsync("/api/events", Json(Batch("scale-1", 1, 1)), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Equal(0, await _server.CountAsync("stock")); // the revocation and the till's enrolment wrote their own events, the service nothing
    }

    [Fact]
    public async Task The_back_office_cannot_let_a_service_write_what_hq_owns()
    {
        using var admin = _server.Client();
        using var response = await admin.PostAsJsonAsync("/api/services", JsonDocument.Parse("""{"name":"rogue pricing","publish":["prices"]}""").RootElement, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'prices' comes down from HQ", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var badTopic = await admin.PostAsJsonAsync("/api/services", JsonDocument.Parse("""{"name":"typo","read":["Prices!"]}""").RootElement, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badTopic.StatusCode);
    }

    [Fact]
    public async Task A_subscription_resumes_after_what_it_acknowledged_and_sees_only_its_topics_and_types()
    {
        var (service, _) = await EnrolAsync("food safety", publish: ["stock"], read: ["stock", "prices"]);
        var published = await PublishOkAsync(service, "probe-1", 1, 5);
        var positions = published.GetProperty("positions").EnumerateArray().Select(p => p.GetInt64()).ToList();

        // Everything the store still holds on the topics, in order; then acknowledge the third.
        var first = await ReadAsync(service, "monitor", "topics=stock&types=StockCounted", count: 5);
        Assert.Equal(positions, first.Select(e => e.Position).TakeLast(5));
        Assert.All(first, e => Assert.Equal(("stock", "StockCounted"), (e.Topic, e.Type)));
        using (var ack = await service.PostAsJsonAsync("/api/subscriptions/monitor/ack", new { position = positions[2] }, Ct))
        {
            Assert.Equal(positions[2], (await ack.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("acknowledged").GetInt64());
        }

        // A restart resumes after the acknowledged position: the fourth again (not acknowledged), never the first three.
        var again = await ReadAsync(service, "monitor", "topics=stock&types=StockCounted", count: 2);
        Assert.Equal(positions[3..], again.Select(e => e.Position));

        // A new event reaches a stream that is waiting.
        var waiting = ReadAsync(service, "monitor", "topics=stock&types=StockCounted", count: 3);
        await Task.Delay(300, Ct);
        var sixth = (await PublishOkAsync(service, "probe-1", 6, 1)).GetProperty("positions")[0].GetInt64();
        Assert.Equal([positions[3], positions[4], sixth], (await waiting).Select(e => e.Position));

        // Acknowledging backwards changes nothing; a topic outside the grant is refused.
        using (var back = await service.PostAsJsonAsync("/api/subscriptions/monitor/ack", new { position = 1 }, Ct))
        {
            Assert.Equal(positions[2], (await back.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("acknowledged").GetInt64());
        }

        using var sales = await service.GetAsync("/api/subscriptions/monitor/events?topics=sales", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, sales.StatusCode);
        Assert.Contains("may not read 'sales'; it may read prices, stock", await sales.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subscription_behind_the_stores_retention_is_told_the_first_position_it_can_read()
    {
        await _server.DisposeAndDeleteAsync();
        var tiny = new Outpost.Core.Topics.TopicCatalog([.. Outpost.Retail.RetailTopics.Catalog.Declared.Where(p => p.Topic != "stock"),
            new Outpost.Core.Topics.TopicPolicy("stock", Outpost.Core.Topics.TopicDirection.Local, Outpost.Core.Topics.TopicPriority.High, Outpost.Core.Topics.RetentionPolicy.Budget(600, TimeSpan.FromDays(1)))]);
        _server = await StoreServer.StartAsync(configure: o => o.Topics = tiny);
        var (service, _) = await EnrolAsync("food safety", publish: ["stock"], read: ["stock"]);
        var positions = (await PublishOkAsync(service, "probe-1", 1, 20)).GetProperty("positions").EnumerateArray().Select(p => p.GetInt64()).ToList();
        Assert.NotEmpty((await _server.Log.ApplyRetentionAsync(Ct)).Evicted);

        using var behind = await service.GetAsync("/api/subscriptions/late/events", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.Gone, behind.StatusCode);
        var problem = JsonDocument.Parse(await behind.Content.ReadAsStringAsync(Ct)).RootElement;
        var firstReadable = problem.GetProperty("firstReadable").GetInt64();
        Assert.InRange(firstReadable, positions[1], positions[^1]);
        Assert.Contains($"The first position it can still read is {firstReadable}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Acknowledging up to the gap, as the answer says, goes on from the first event still held: no event skipped unannounced.
        using (await service.PostAsJsonAsync("/api/subscriptions/late/ack", new { position = firstReadable - 1 }, Ct))
        {
        }

        var resumed = await ReadAsync(service, "late", "", count: 1);
        Assert.Equal(positions.First(p => p >= firstReadable), resumed[0].Position);
    }

    [Fact]
    public async Task A_subscription_far_behind_is_sent_at_the_catch_up_pace()
    {
        await _server.DisposeAndDeleteAsync();
        _server = await StoreServer.StartAsync(configure: o => o.ServiceCatchUpPerSecond = 1000);
        var (service, _) = await EnrolAsync("reader", publish: ["stock"], read: ["stock"]);
        for (var i = 0; i < 4; i++)
        {
            await PublishOkAsync(service, "scale-1", 1 + i * 250, 250);
        }

        // 1,000 events behind at 1,000 a second, pages of 200: four waits of 0.2 s between the five pages. A lower
        // bound only: a busy machine makes it slower, never faster.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var events = await ReadAsync(service, "catch-up", "topics=stock", 1000);
        Assert.Equal(1000, events.Count);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.7), $"1,000 events behind were delivered in {watch.Elapsed.TotalSeconds:F2} s at a pace of 1,000 a second");
    }

    [Fact]
    public async Task A_service_registers_its_own_type_on_its_own_topic_and_its_events_are_checked_against_it()
    {
        var (service, _) = await EnrolAsync("food safety", publish: ["food-safety", "stock"], read: ["food-safety"]);
        const string Schema = """{"type":"object","properties":{"fridge":{"type":"string"},"celsius":{"type":"number"}},"required":["fridge","celsius"],"additionalProperties":false}""";
        using (var added = await service.PutAsync("/api/contracts/food-safety/FridgeTemperature/1", Json(Schema), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        using (var again = await service.PutAsync("/api/contracts/food-safety/FridgeTemperature/1", Json(Schema), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode); // the same schema again: nothing changes
        }

        await RefusedPutAsync(service, "/api/contracts/food-safety/FridgeTemperature/1", """{"type":"object"}""", HttpStatusCode.Conflict, "register v2");
        await RefusedPutAsync(service, "/api/contracts/stock/ScaleReading/1", """{"type":"object"}""", HttpStatusCode.Forbidden, "carries Outpost's own event types");
        await RefusedPutAsync(service, "/api/contracts/alarms/Alarm/1", """{"type":"object"}""", HttpStatusCode.Forbidden, "not one of them");
        await RefusedPutAsync(service, "/api/contracts/food-safety/Bad/1", """{"type":"banana"}""", HttpStatusCode.BadRequest, "not a valid JSON Schema");

        var reading = """{"producer":"probe-1","events":[{"seq":1,"topic":"food-safety","type":"FridgeTemperature","key":"fridge-2","payload":{"fridge":"fridge-2","celsius":3.5}}]}""";
        Assert.Equal(HttpStatusCode.OK, (await service.PostAsync("/api/events", Json(reading), Ct)).StatusCode);
        await RefusedAsync(service, reading.Replace("\"seq\":1", "\"seq\":2", StringComparison.Ordinal).Replace("3.5", "\"warm\"", StringComparison.Ordinal),
            HttpStatusCode.UnprocessableEntity, "events[0].payload.celsius");

        // Served beside Outpost's own contracts, and still known after a restart.
        using var anonymous = _server.Client(token: null);
        Assert.Contains("\"celsius\"", await anonymous.GetStringAsync("/contracts/food-safety/FridgeTemperature/1", Ct), StringComparison.Ordinal);
        var directory = _server.Directory;
        await _server.DisposeAsync();
        _server = await StoreServer.StartAsync(directory: directory);
        using var restarted = _server.Client(token: null);
        Assert.Contains("\"celsius\"", await restarted.GetStringAsync("/contracts/food-safety/FridgeTemperature/1", Ct), StringComparison.Ordinal);
    }

    private static async Task RefusedPutAsync(HttpClient service, string path, string schema, HttpStatusCode status, string says)
    {
        using var response = await service.PutAsync(path, Json(schema), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} not {(int)status}: {text}");
        Assert.Contains(says, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoking_a_service_ends_its_open_subscription_at_once()
    {
        var (service, id) = await EnrolAsync("food safety", publish: ["stock"], read: ["stock"]);
        await PublishOkAsync(service, "probe-1", 1, 1);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await service.GetAsync("/api/subscriptions/monitor/events", HttpCompletionOption.ResponseHeadersRead, bound.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(bound.Token);
        var items = System.Net.ServerSentEvents.SseParser.Create(body).EnumerateAsync(bound.Token).GetAsyncEnumerator(bound.Token);
        Assert.True(await items.MoveNextAsync()); // the event published before: the stream is live

        using var admin = _server.Client();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/devices/{id}", Ct)).StatusCode);
        var ended = false;
        try
        {
            ended = !await items.MoveNextAsync(); // ends well before the 15 s heartbeat, let alone the 30 s bound
        }
        catch (HttpIOException)
        {
            ended = true;
        }

        Assert.True(ended && !bound.IsCancellationRequested, "the revoked service's stream stayed open");
        await items.DisposeAsync();
    }

    private static async Task<List<(long Position, string Topic, string Type)>> ReadAsync(HttpClient service, string subscription, string query, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await service.GetAsync($"/api/subscriptions/{subscription}/events?{query}", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}"); // a stream's body never ends: read it only when it is not one
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        var seen = new List<(long, string, string)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(body).EnumerateAsync(timeout.Token))
        {
            if (item.EventType is "heartbeat")
            {
                continue;
            }

            var e = JsonDocument.Parse(item.Data).RootElement;
            Assert.Equal(item.EventId, e.GetProperty("position").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
            seen.Add((e.GetProperty("position").GetInt64(), e.GetProperty("topic").GetString()!, item.EventType));
            if (seen.Count == count)
            {
                break;
            }
        }

        return seen;
    }

    private async Task<(HttpClient Client, string Id)> EnrolAsync(string name, string[] publish, string[] read)
    {
        using var admin = _server.Client();
        using var response = await admin.PostAsJsonAsync("/api/services", new { name, publish, read }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var enrolled = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(publish, enrolled.GetProperty("grant").GetProperty("publish").EnumerateArray().Select(t => t.GetString()));
        return (_server.Client(enrolled.GetProperty("token").GetString()), enrolled.GetProperty("device").GetProperty("id").GetString()!);
    }

    private static string Batch(string producer, long from, int count, string topic = "stock", string type = "StockCounted", string? payload = null) =>
        JsonSerializer.Serialize(new
        {
            producer,
            events = Enumerable.Range(0, count).Select(i => new
            {
                seq = from + i,
                topic,
                type,
                key = $"shelf-{from + i}",
                payload = JsonDocument.Parse(payload ?? $$"""{"gtin":"{{StoreServer.Cola}}","quantity":{{from + i}}.5,"by":"scale"}""").RootElement,
            }),
        });

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PublishOkAsync(HttpClient service, string producer, long from, int count)
    {
        using var response = await service.PostAsync("/api/events", Json(Batch(producer, from, count)), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task RefusedAsync(HttpClient service, string body, HttpStatusCode status, string says)
    {
        using var response = await service.PostAsync("/api/events", Json(body), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} not {(int)status}: {text}");
        Assert.Contains(says, text, StringComparison.Ordinal);
    }
}
