using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Retail.Checkout;
using Outpost.Retail.Orders;

namespace Outpost.Store.Tests;

public sealed class StoreApiTests : IAsyncLifetime
{
    private static readonly string[] Bacon = ["bacon"];
    private StoreServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await StoreServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAndDeleteAsync();

    [Fact]
    public async Task A_till_sells_three_colas_under_3_for_2_and_a_retried_completion_is_recorded_once()
    {
        var (till, _, _) = await _server.DeviceAsync("till");
        var basket = await ReadAsync(await till.PostAsJsonAsync("/api/baskets", new { staffId = "anna" }, Ct), HttpStatusCode.Created);
        var id = basket.GetProperty("id").GetString();
        await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/lines", new { code = StoreServer.Cola, quantity = 3 }, Ct));
        var paid = await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/payments", new { method = "cash", amount = 5 }, Ct));
        var first = await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/complete", new { idempotencyKey = "till-1:42" }, Ct));
        var retry = await ReadAsync(await till.PostAsJsonAsync($"/api/baskets/{id}/complete", new { idempotencyKey = "till-1:42" }, Ct));

        Assert.Equal(3.00m, paid.GetProperty("total").GetDecimal());
        Assert.Equal(1.50m, paid.GetProperty("saving").GetDecimal());
        Assert.Equal(first.GetProperty("sale").GetProperty("saleId").GetString(), retry.GetProperty("sale").GetProperty("saleId").GetString());
        Assert.Contains("Cola 3 for 2", first.GetProperty("receipt").GetString(), StringComparison.Ordinal);
        Assert.Equal(2.00m, first.GetProperty("sale").GetProperty("change").GetDecimal());
        Assert.Equal(1, await _server.CountAsync(CheckoutEvents.SalesTopic, CheckoutEvents.SaleCompleted));
    }

    [Fact]
    public async Task Unknown_missing_and_revoked_tokens_get_401_with_a_message()
    {
        using var anonymous = _server.Client(null);
        using var stranger = _server.Client("not-a-token");
        var (till, tillId, _) = await _server.DeviceAsync("till");
        using var admin = _server.Client();

        var none = await anonymous.GetAsync($"/api/products/{StoreServer.Cola}", Ct);
        var unknown = await stranger.GetAsync($"/api/products/{StoreServer.Cola}", Ct);
        var before = await till.GetAsync($"/api/products/{StoreServer.Cola}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/devices/{tillId}", Ct)).StatusCode);
        var revoked = await till.GetAsync($"/api/products/{StoreServer.Cola}", Ct);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        foreach (var response in new[] { none, unknown, revoked })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var message = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("Pair this device", message, StringComparison.Ordinal);
            Assert.Contains("Authorization: Bearer", message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("kiosk", "POST", "/api/campaigns/prices")]
    [InlineData("signage", "POST", "/api/baskets")]
    [InlineData("signage", "POST", "/api/orders")]
    [InlineData("signage", "POST", "/api/stock/availability")]
    [InlineData("kitchen", "POST", "/api/baskets")]
    [InlineData("handheld", "POST", "/api/orders")]
    [InlineData("till", "POST", "/api/devices")]
    [InlineData("kiosk", "GET", "/api/connectivity")]
    [InlineData("till", "POST", "/api/stock/counts")]
    public async Task Each_endpoint_refuses_roles_it_does_not_accept_with_403(string role, string method, string path)
    {
        var (device, _, _) = await _server.DeviceAsync(role);

        var response = await device.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "GET" ? null : new StringContent("{}", Encoding.UTF8, "application/json"),
        }, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains($"A {role} device cannot do this", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("till")]
    [InlineData("kiosk")]
    [InlineData("signage")]
    [InlineData("kitchen")]
    [InlineData("handheld")]
    [InlineData("backoffice")]
    public async Task Every_role_can_check_a_price_and_read_the_menu(string role)
    {
        var (device, _, _) = await _server.DeviceAsync(role);

        var label = await ReadAsync(await device.GetAsync($"/api/products/{StoreServer.Cola}", Ct));
        var menu = await ReadAsync(await device.GetAsync("/api/menu", Ct));

        Assert.Equal((1.50m, "Cola 1.5L"), (label.GetProperty("price").GetDecimal(), label.GetProperty("name").GetString()));
        Assert.Equal(2, menu.GetArrayLength());
    }

    [Fact]
    public async Task Bad_input_gets_a_4xx_that_says_what_is_wrong_and_changes_nothing()
    {
        var (till, _, _) = await _server.DeviceAsync("till");
        var basket = await ReadAsync(await till.PostAsJsonAsync("/api/baskets", new { }, Ct), HttpStatusCode.Created);
        var lines = $"/api/baskets/{basket.GetProperty("id").GetString()}/lines";

        var malformed = await till.PostAsync(lines, new StringContent("{\"code\": ", Encoding.UTF8, "application/json"), Ct);
        var unknown = await till.PostAsJsonAsync(lines, new { code = "4006381333948" }, Ct);
        var badDigit = await till.PostAsJsonAsync(lines, new { code = "4006381333932" }, Ct);
        var negative = await till.PostAsJsonAsync(lines, new { code = StoreServer.Cola, quantity = -2 }, Ct);
        var missing = await till.PostAsJsonAsync(lines, new { quantity = 1 }, Ct);
        var huge = await till.PostAsync(lines, new StringContent("{\"code\":\"" + new string('9', 100_000) + "\"}", Encoding.UTF8, "application/json"), Ct);
        var noBasket = await till.PostAsJsonAsync("/api/baskets/nope/lines", new { code = StoreServer.Cola }, Ct);
        var badMethod = await till.PostAsJsonAsync($"/api/baskets/{basket.GetProperty("id").GetString()}/payments", new { method = "cheque", amount = 1 }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("does not sell", await unknown.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badDigit.StatusCode);
        Assert.Contains("check digit", await badDigit.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Contains("not a positive quantity", await negative.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("'code' is required", await missing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noBasket.StatusCode);
        Assert.Contains("not a payment method", await badMethod.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        foreach (var response in new[] { malformed, unknown, badDigit, negative, missing, huge, noBasket, badMethod })
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var after = await ReadAsync(await till.GetAsync($"/api/baskets/{basket.GetProperty("id").GetString()}", Ct));
        Assert.Equal(0, after.GetProperty("lines").GetArrayLength());
        Assert.Equal(0, await _server.CountAsync(CheckoutEvents.SalesTopic));
    }

    [Fact]
    public async Task A_kiosk_order_reaches_the_kitchen_feed_and_the_kitchen_moves_it_on_but_cannot_hand_it_over()
    {
        var (kiosk, _, _) = await _server.DeviceAsync("kiosk");
        var (kitchen, _, kitchenToken) = await _server.DeviceAsync("kitchen");
        using var feed = await FeedReader.OpenAsync(_server.Address, kitchenToken, null);
        var hello = await feed.NextAsync();

        var placed = await ReadAsync(await kiosk.PostAsJsonAsync("/api/orders", new { lines = new[] { new { code = StoreServer.Salad, quantity = 1, without = Bacon } }, customerName = "Sam" }, Ct), HttpStatusCode.Created);
        var orderId = placed.GetProperty("order").GetProperty("orderId").GetString();
        var message = await feed.NextAsync();
        var queue = await ReadAsync(await kitchen.GetAsync("/api/orders?status=placed", Ct));
        var preparing = await kitchen.PostAsJsonAsync($"/api/orders/{orderId}/status", new { status = "preparing" }, Ct);
        var handOver = await kitchen.PostAsJsonAsync($"/api/orders/{orderId}/status", new { status = "collected" }, Ct);

        Assert.Equal("hello", hello.Event);
        Assert.Equal("orders", message.Event);
        Assert.Equal(orderId, JsonDocument.Parse(message.Data).RootElement.GetProperty("order").GetProperty("orderId").GetString());
        Assert.True(long.Parse(message.Id, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(hello.Id, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(orderId, queue[0].GetProperty("order").GetProperty("orderId").GetString());
        Assert.Equal(HttpStatusCode.OK, preparing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, handOver.StatusCode);
        Assert.Equal(OrderStatus.Preparing, (await ReadAsync(await kitchen.GetAsync($"/api/orders/{orderId}", Ct))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_kiosk_retrying_an_order_with_its_key_gets_the_same_order_and_the_kitchen_sees_it_once()
    {
        var (kiosk, _, _) = await _server.DeviceAsync("kiosk");
        var (kitchen, _, _) = await _server.DeviceAsync("kitchen");
        object Order(string key) => new { lines = new[] { new { code = StoreServer.Burger, quantity = 2 } }, customerName = "Ana", idempotencyKey = key };

        var first = await kiosk.PostAsJsonAsync("/api/orders", Order("c0ffee"), Ct);
        var retry = await kiosk.PostAsJsonAsync("/api/orders", Order("c0ffee"), Ct);
        var tooLong = await kiosk.PostAsJsonAsync("/api/orders", Order(new string('k', 101)), Ct);
        var otherItems = await kiosk.PostAsJsonAsync("/api/orders", new { lines = new[] { new { code = StoreServer.Salad, quantity = 1 } }, idempotencyKey = "c0ffee" }, Ct);
        var queue = await ReadAsync(await kitchen.GetAsync("/api/orders?status=placed", Ct));

        var placed = await ReadAsync(first, HttpStatusCode.Created);
        var again = await ReadAsync(retry, HttpStatusCode.Created);
        Assert.Equal(placed.GetProperty("order").GetProperty("orderId").GetString(), again.GetProperty("order").GetProperty("orderId").GetString());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("idempotency key is 1 to 100 characters", await tooLong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, otherItems.StatusCode);
        Assert.Contains("already placed order", await otherItems.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(1, queue.GetArrayLength());
    }

    [Fact]
    public async Task A_feed_reconnecting_with_Last_Event_ID_gets_what_it_missed_and_nothing_twice()
    {
        var (kiosk, _, _) = await _server.DeviceAsync("kiosk");
        var (_, _, signageToken) = await _server.DeviceAsync("signage");
        long position;
        using (var first = await FeedReader.OpenAsync(_server.Address, signageToken, null))
        {
            position = long.Parse((await first.NextAsync()).Id, System.Globalization.CultureInfo.InvariantCulture);
        }

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var placed = await ReadAsync(await kiosk.PostAsJsonAsync("/api/orders", new { lines = new[] { new { code = StoreServer.Burger, quantity = 1 } } }, Ct), HttpStatusCode.Created);
            ids.Add(placed.GetProperty("order").GetProperty("orderId").GetString()!);
        }

        using var resumed = await FeedReader.OpenAsync(_server.Address, signageToken, position);
        var greeting = await resumed.NextAsync();
        var missed = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            missed.Add(JsonDocument.Parse((await resumed.NextAsync()).Data).RootElement.GetProperty("order").GetProperty("orderId").GetString()!);
        }

        Assert.Equal("resume", greeting.Event);
        Assert.Equal(ids, missed);
    }

    [Fact]
    public async Task Marking_bacon_out_from_a_handheld_hides_the_burger_and_strips_the_salad_and_tells_the_menu_boards()
    {
        var (handheld, _, _) = await _server.DeviceAsync("handheld");
        var (signage, _, signageToken) = await _server.DeviceAsync("signage");
        using var feed = await FeedReader.OpenAsync(_server.Address, signageToken, null);
        await feed.NextAsync();

        var marked = await handheld.PostAsJsonAsync("/api/stock/availability", new { kind = "ingredient", id = "bacon", available = false }, Ct);
        var message = await feed.NextAsync();
        var menu = await ReadAsync(await signage.GetAsync("/api/menu", Ct));

        Assert.Equal(HttpStatusCode.NoContent, marked.StatusCode);
        Assert.Equal("availability", message.Event);
        var items = menu.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.False(items["Bacon Cheeseburger"].GetProperty("available").GetBoolean());
        Assert.Equal("bacon", items["Chicken Salad"].GetProperty("without")[0].GetString());
    }

    [Fact]
    public async Task A_back_office_store_promotion_prices_the_label_from_its_start_and_bad_ones_are_refused()
    {
        using var office = _server.Client();
        var created = await office.PostAsJsonAsync("/api/campaigns/promotions", new
        {
            id = "crisps-half",
            promotion = new { id = "x", name = "Crisps half price", type = "percentOff", products = new[] { StoreServer.Crisps }, percent = 50 },
            from = DateTime.UtcNow.Date.AddDays(-2),
            to = DateTime.UtcNow.Date.AddDays(30),
            createdBy = "manager-7",
        }, Ct);
        var bad = await office.PostAsJsonAsync("/api/campaigns/promotions", new
        {
            id = "bad",
            promotion = new { id = "x", name = "Broken", type = "percentOff", products = new[] { StoreServer.Crisps }, percent = 150 },
            from = DateTime.UtcNow.Date.AddDays(-2),
            to = DateTime.UtcNow.Date.AddDays(30),
            createdBy = "manager-7",
        }, Ct);
        var label = await ReadAsync(await office.GetAsync($"/api/products/{StoreServer.Crisps}", Ct));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("percent", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal((1.20m, 0.60m), (label.GetProperty("shelfPrice").GetDecimal(), label.GetProperty("price").GetDecimal()));
        Assert.Equal("Crisps half price", label.GetProperty("promotions")[0].GetString());
        Assert.Equal(1, await _server.CountAsync(Outpost.Retail.Pricing.PricingEvents.CampaignsTopic));
    }

    [Fact]
    public async Task A_price_check_shows_a_product_change_a_new_price_an_out_of_stock_mark_and_a_new_promotion_as_they_are_projected()
    {
        // The price check answers from in-memory caches of the catalog, what is out of stock and the promotions; each is
        // emptied by its projection's commit. Read first so every cache holds the old answer.
        var (till, _, _) = await _server.DeviceAsync("till");
        var (handheld, _, _) = await _server.DeviceAsync("handheld");
        using var office = _server.Client();
        var before = await ReadAsync(await till.GetAsync($"/api/products/{StoreServer.Cola}", Ct));
        Assert.Equal(("Cola 1.5L", true, 0), (before.GetProperty("name").GetString(), before.GetProperty("available").GetBoolean(), before.GetProperty("promotions").GetArrayLength()));

        await _server.Log.AppendAsync(new Outpost.Core.Events.NewEvent
        {
            Topic = Outpost.Retail.Catalog.CatalogEvents.ProductsTopic,
            Type = Outpost.Retail.Catalog.CatalogEvents.ProductUpserted,
            Key = StoreServer.Cola,
            Payload = Outpost.Core.Events.NewEvent.Json(new Outpost.Retail.Catalog.ProductUpsertedV1(StoreServer.Cola, "Cola 1.5L new recipe", "drinks", "standard",
                Outpost.Retail.Catalog.SaleUnit.Each, null, null), Outpost.Retail.Catalog.CatalogJsonContext.Default.ProductUpsertedV1),
        }, Ct);
        var from = new DateTime(2026, 2, 1); // a later period than the seeded price: it wins from its start, long past
        await _server.Log.AppendAsync(new Outpost.Core.Events.NewEvent
        {
            Topic = Outpost.Retail.Pricing.PricingEvents.PricesTopic,
            Type = Outpost.Retail.Pricing.PricingEvents.PriceSet,
            Key = Outpost.Retail.Pricing.PricingEvents.PriceKey(Outpost.Core.Events.Scope.All, StoreServer.Cola, from),
            Payload = Outpost.Core.Events.NewEvent.Json(new Outpost.Retail.Pricing.PriceSetV1(StoreServer.Cola, 1.80m, "EUR", from, null),
                Outpost.Retail.Pricing.PricingJsonContext.Default.PriceSetV1),
        }, Ct);
        (await handheld.PostAsJsonAsync("/api/stock/availability", new { kind = "product", id = StoreServer.Cola, available = false }, Ct)).EnsureSuccessStatusCode();
        (await office.PostAsJsonAsync("/api/campaigns/promotions", new
        {
            id = "cola-third-off",
            promotion = new { id = "c", name = "Cola a third off", type = "percentOff", products = new[] { StoreServer.Cola }, percent = 33 },
            from = DateTime.UtcNow.Date.AddDays(-1),
            to = DateTime.UtcNow.Date.AddDays(30),
            createdBy = "manager-7",
        }, Ct)).EnsureSuccessStatusCode();

        JsonElement after = default;
        for (var i = 0; i < 200; i++)
        {
            after = await ReadAsync(await till.GetAsync($"/api/products/{StoreServer.Cola}", Ct));
            if (after.GetProperty("name").GetString() != "Cola 1.5L" && after.GetProperty("shelfPrice").GetDecimal() != 1.50m)
            {
                break;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Equal(("Cola 1.5L new recipe", 1.80m, false), (after.GetProperty("name").GetString(), after.GetProperty("shelfPrice").GetDecimal(), after.GetProperty("available").GetBoolean()));
        Assert.Equal("Cola a third off", after.GetProperty("promotions")[0].GetString());
    }

    [Fact]
    public async Task The_openapi_document_is_a_contract_a_client_can_be_generated_from()
    {
        using var anonymous = _server.Client(null);
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json", Ct)).RootElement;
        Assert.Equal(("Outpost store server", Outpost.Store.Api.StoreOpenApi.Version), (document.GetProperty("info").GetProperty("title").GetString(), document.GetProperty("info").GetProperty("version").GetString()));

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var faults = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch"))
            {
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var op = operation.Value;
                if (!op.TryGetProperty("operationId", out var id) || !ids.Add(id.GetString()!))
                {
                    faults.Add($"{name}: no operation id, or one another operation has");
                }

                if (!op.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString()))
                {
                    faults.Add($"{name}: no summary");
                }

                var responses = op.GetProperty("responses");
                foreach (var response in responses.EnumerateObject().Where(r => r.Name.StartsWith('2') && r.Name is not ("202" or "204")))
                {
                    // A typed answer: a schema with a reference, properties, items or a type other than a bare object.
                    var typed = response.Value.TryGetProperty("content", out var content) && content.EnumerateObject().All(m =>
                        m.Value.TryGetProperty("schema", out var schema) && (schema.TryGetProperty("$ref", out _) || schema.TryGetProperty("properties", out _)
                            || schema.TryGetProperty("items", out _) || (schema.TryGetProperty("type", out var type) && type.ToString() != "object")));
                    if (!typed)
                    {
                        faults.Add($"{name}: {response.Name} has no typed body");
                    }
                }

                if (path.Name.StartsWith("/api/", StringComparison.Ordinal))
                {
                    foreach (var status in new[] { "400", "401", "403", "429", "500", "default" })
                    {
                        if (!responses.TryGetProperty(status, out var error) || !error.GetProperty("content").TryGetProperty("application/problem+json", out _))
                        {
                            faults.Add($"{name}: no {status} as application/problem+json");
                        }
                    }
                }
            }
        }

        Assert.True(faults.Count == 0, string.Join("\n", faults));
        Assert.Contains("postBasketsByIdLines", ids);

        // And the errors are what the document says: problem details, every one.
        var (till, _, _) = await _server.DeviceAsync("till");
        using var unknown = await till.GetAsync("/api/products/0000000000000", Ct);
        using var wrongRole = await till.GetAsync("/api/services", Ct);
        using var malformed = await till.PostAsync("/api/baskets", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var noCredential = await anonymous.GetAsync("/api/baskets", Ct);
        foreach (var (response, status) in new[] { (unknown, HttpStatusCode.NotFound), (wrongRole, HttpStatusCode.Forbidden), (malformed, HttpStatusCode.BadRequest), (noCredential, HttpStatusCode.Unauthorized) })
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal((int)status, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Health_metrics_and_the_openapi_document_are_served()
    {
        using var client = _server.Client(null);

        var live = await client.GetAsync("/health/live", Ct);
        var ready = await client.GetAsync("/health/ready", Ct);
        var metrics = await client.GetStringAsync("/metrics", Ct);
        var openApi = await client.GetStringAsync("/openapi/v1.json", Ct);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);
        Assert.Contains("outpost_log", metrics, StringComparison.Ordinal);

        // The runtime's own figures (garbage collection pauses, thread pool), and request durations in buckets fine
        // enough to read a millisecond p99 (ASP.NET Core's default buckets start at 5 ms).
        Assert.Contains("dotnet_gc_pause_time_seconds_total", metrics, StringComparison.Ordinal);
        Assert.Contains("dotnet_thread_pool_work_item_count_total", metrics, StringComparison.Ordinal);
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal)
            && line.Contains("http_route=\"/health/live\"", StringComparison.Ordinal) && line.Contains(",le=\"0.001\"}", StringComparison.Ordinal));
        Assert.Contains("/api/baskets/{id}/complete", openApi, StringComparison.Ordinal);
        Assert.Contains("/api/orders", openApi, StringComparison.Ordinal);
        Assert.Contains("/api/gate/exit", openApi, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/", "Outpost store server")]
    [InlineData("/till.html", "till.js")]
    [InlineData("/kiosk.html", "Place order")]
    [InlineData("/menu.html", "menu.js")]
    [InlineData("/menu.js", "/api/menu")]
    [InlineData("/pair.js", "/api/pair")]
    [InlineData("/kitchen.html", "Kitchen")]
    [InlineData("/collection.html", "Ready to collect")]
    [InlineData("/backoffice.html", "Link to HQ")]
    [InlineData("/labels.html", "re-print")]
    [InlineData("/app.js", "EventSource")]
    [InlineData("/style.css", "--accent")]
    public async Task The_device_pages_are_served_as_static_files(string path, string expected)
    {
        using var client = _server.Client(null);

        var response = await client.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
