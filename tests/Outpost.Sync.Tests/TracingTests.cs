using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Outpost.Central.Admin;
using Outpost.Central.MasterData;
using Outpost.Central.Stores;
using Outpost.Cli.Bench;
using Outpost.Core.Events;
using Outpost.Sync.Hosting;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>
/// Traces from the till to HQ: the real <c>outpost central</c> and <c>outpost store</c> as child processes, configured
/// only by the standard <c>OTEL_*</c> variables, exporting by OTLP/HTTP to a receiver the test runs on 127.0.0.1.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private const string Cola = "04006381333931";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("outpost-tracing-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_sale_s_trace_runs_from_the_till_through_pricing_and_the_durable_append_to_HQ_s_ingest_and_read_models_even_when_HQ_was_down_at_the_sale()
    {
        await using var sink = await OtlpSink.StartAsync(Ct);
        var hqPort = ChildProcess.FreePort();
        var storePort = ChildProcess.FreePort();
        var hqEnvironment = new Dictionary<string, string>(sink.Environment) { ["OUTPOST_ADMIN_TOKEN"] = "hq-admin" };
        var hq = await StartHqAsync(hqEnvironment, hqPort);
        using var admin = Client(hqPort, "hq-admin");
        var secret = (await (await admin.PostAsJsonAsync("admin/stores", new RegisterStore("s1", "north"), Ct)).Content.ReadFromJsonAsync<IssuedCredential>(Ct))!.Secret;
        (await admin.PutAsJsonAsync($"admin/products/{Cola}", new ProductBody(null, "Cola 1.5L", "drinks", "standard"), Ct)).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("admin/prices", new PriceBody(Cola, 1.50m, "EUR", new DateTime(2026, 1, 1, 6, 0, 0), null, "*"), Ct)).EnsureSuccessStatusCode();

        using var store = ChildProcess.Start(new Dictionary<string, string>(sink.Environment) { ["OUTPOST_STORE_SECRET"] = secret, ["OUTPOST_STORE_AdminToken"] = "store-admin" },
            "store", "--id", "s1", "--central", $"http://127.0.0.1:{hqPort}/", "--data", Path.Combine(_directory, "s1"), "--urls", $"http://127.0.0.1:{storePort}");
        await store.WaitForLineAsync(l => l.Contains("pair the back office", StringComparison.Ordinal), Bound);
        using var back = Client(storePort, "store-admin");
        var enrolled = await back.PostAsJsonAsync("/api/devices", new { name = "Till 1", role = "till" }, Ct);
        enrolled.EnsureSuccessStatusCode();
        using var till = Client(storePort, JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("token").GetString());
        Assert.True(await Cluster.EventuallyAsync(async () => (await till.GetAsync($"/api/products/{Cola}", Ct)).IsSuccessStatusCode, Bound),
            "the product did not reach the store");

        // HQ goes down; the till sells, its requests in one trace of its own (a traced till sends W3C trace context).
        hq.Stop();
        hq.Dispose();
        var trace = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var basket = await TracedAsync(till, trace, "/api/baskets", new { staffId = "s1" });
        var id = basket.RootElement.GetProperty("id").GetString();
        (await TracedAsync(till, trace, $"/api/baskets/{id}/lines", new { code = Cola, quantity = 2 })).Dispose();
        (await TracedAsync(till, trace, $"/api/baskets/{id}/payments", new { method = "cash", amount = 5m })).Dispose();
        (await TracedAsync(till, trace, $"/api/baskets/{id}/complete", new { idempotencyKey = "till-1:1" })).Dispose();
        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // the up link tries, and fails, while HQ is down
        var backUp = DateTimeOffset.UtcNow;
        hq = await StartHqAsync(hqEnvironment, hqPort);
        try
        {
            ReceivedSpan[] Trace() => [.. sink.Spans.Where(s => s.TraceId == trace)];
            Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(
                Trace().Any(s => s.Name == "outpost.ingest SaleCompleted") && Trace().Any(s => s.Service == "outpost-hq" && s.Name.StartsWith("outpost.project ", StringComparison.Ordinal))), Bound),
                "HQ's spans never joined the sale's trace; spans of it: " + string.Join(", ", Trace().Select(s => $"{s.Service}:{s.Name}")));
            var spans = Trace();

            // At the store: the till's requests, pricing and the durable appends, all in the till's trace.
            var complete = Assert.Single(spans, s => s is { Service: "outpost-store", Kind: 2 } && s.Name.EndsWith("complete", StringComparison.Ordinal));
            Assert.Equal("s1", complete.Instance);
            Assert.Contains(spans, s => s is { Service: "outpost-store", Name: "outpost.price basket" });
            var appends = spans.Where(s => s.Name == "outpost.log append").ToList();
            Assert.Contains(appends, a => a.ParentSpanId == complete.SpanId && a.Attributes["db.system.name"] as string == "sqlite");

            // The sale went up in a batch after HQ came back: its span is in the sale's trace, linked to the batch.
            var up = spans.Where(s => s is { Service: "outpost-store", Name: "outpost.up SaleCompleted" } && s.ParentSpanId == complete.SpanId).ToList();
            Assert.NotEmpty(up);
            Assert.Contains(up, s => !s.Error && s.Start >= backUp.AddSeconds(-1));
            var batches = sink.Spans.Where(s => s.Name == "outpost.up batch").ToDictionary(s => s.SpanId);
            Assert.All(up, s => Assert.Contains(s.Links, l => batches.ContainsKey(l.SpanId)));

            // At HQ: the ingest's parent is the span that recorded the sale at the store, after the outage, and it links to
            // HQ's request, itself a child of the store's request in its batch span (the up request carried its context).
            var ingest = Assert.Single(spans, s => s.Name == "outpost.ingest SaleCompleted");
            Assert.Equal(("outpost-hq", complete.SpanId), (ingest.Service, ingest.ParentSpanId));
            Assert.True(ingest.Start > complete.End, "HQ stored the sale after the store recorded it");
            Assert.Equal("s1", ingest.Attributes["outpost.store"]);
            Assert.Equal(false, ingest.Attributes["outpost.duplicate"]);
            var request = Assert.Single(sink.Spans, s => s.SpanId == Assert.Single(ingest.Links).SpanId);
            Assert.Equal((2, "outpost-hq"), (request.Kind, request.Service));
            var sent = Assert.Single(sink.Spans, s => s.SpanId == request.ParentSpanId); // the store's HTTP request, in its batch span
            Assert.Equal((3, "outpost-store"), (sent.Kind, sent.Service));
            Assert.Contains(sink.Spans, s => s.SpanId == sent.ParentSpanId && s.Name == "outpost.up batch" && s.Service == "outpost-store");

            // HQ's read models, in the same trace, under the same store span.
            Assert.All(spans.Where(s => s.Service == "outpost-hq" && s.Name.StartsWith("outpost.project ", StringComparison.Ordinal)),
                s => Assert.Equal(complete.SpanId, s.ParentSpanId));

            // Probes, scrapes and the down feed's polls are not traced.
            Assert.DoesNotContain(sink.Spans, s => s.Name.Contains("health", StringComparison.Ordinal) || s.Name.Contains("/sync/v1/down", StringComparison.Ordinal));
        }
        finally
        {
            store.Stop();
            hq.Stop();
            hq.Dispose();
        }
    }

    [Theory]
    [InlineData(null, null, null, null, false)] // off by default
    [InlineData("http://collector:4318", null, null, null, true)]
    [InlineData(null, "http://collector:4318/v1/traces", null, null, true)]
    [InlineData(null, null, "otlp", null, true)]
    [InlineData("http://collector:4318", null, "none", null, false)]
    [InlineData("http://collector:4318", null, null, "true", false)]
    public void Tracing_is_on_only_when_the_OTEL_settings_ask_for_it(string? endpoint, string? tracesEndpoint, string? exporter, string? disabled, bool on)
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = tracesEndpoint,
            ["OTEL_TRACES_EXPORTER"] = exporter,
            ["OTEL_SDK_DISABLED"] = disabled,
        }).Build();
        Assert.Equal(on, NodeTracing.IsOn(settings));
    }

    [Fact]
    public void An_exporter_other_than_otlp_is_refused_by_name()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_TRACES_EXPORTER"] = "zipkin" }).Build();
        var ex = Assert.Throws<InvalidOperationException>(() => NodeTracing.IsOn(settings));
        Assert.Contains("'zipkin' is not supported", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_carries_trace_contexts_as_OPB2_only_when_asked_and_an_event_has_one_and_both_forms_decode()
    {
        const string Traced = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        StoredEvent Stored(int seq, string? trace) => WireCompressionTests.Sale(seq) with { TraceParent = trace };
        StoredEvent[] events = [Stored(1, Traced), Stored(2, null)];

        var up = EventBatchCodec.Encode(events, withTrace: true);
        Assert.Equal("OPB2", Encoding.ASCII.GetString(up, 0, 4));
        Assert.Equal([Traced, null], EventBatchCodec.Decode(up, 10, 1024).Select(e => e.TraceParent));

        // The down feed (withTrace off), and a batch with no trace, stay in the form the previous release reads.
        var down = EventBatchCodec.Encode(events);
        Assert.Equal("OPB1", Encoding.ASCII.GetString(down, 0, 4));
        Assert.All(EventBatchCodec.Decode(down, 10, 1024), e => Assert.Null(e.TraceParent));
        Assert.Equal("OPB1", Encoding.ASCII.GetString(EventBatchCodec.Encode([Stored(3, null)], withTrace: true), 0, 4));

        var future = EventBatchCodec.Encode(events);
        "OPB3"u8.CopyTo(future);
        var ex = Assert.Throws<BatchFormatException>(() => EventBatchCodec.Decode(future, 10, 1024));
        Assert.Contains("reads OPB1 and OPB2", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<ChildProcess> StartHqAsync(IReadOnlyDictionary<string, string> environment, int port)
    {
        var hq = ChildProcess.Start(environment, "central", "--urls", $"http://127.0.0.1:{port}", "--data", Path.Combine(_directory, "hq"));
        await hq.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal), Bound);
        return hq;
    }

    private static async Task<JsonDocument> TracedAsync(HttpClient till, string trace, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("traceparent", $"00-{trace}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64(1, long.MaxValue)))}-01");
        using var response = await till.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text);
    }

    private static HttpClient Client(int port, string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }
}
