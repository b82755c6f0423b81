using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Store.Tests;

/// <summary>
/// The event API is a contract, not a .NET library: examples/node-service/shelf-audit.mjs, plain Node.js with no
/// package, registers its own event type, reads stock counts from its durable subscription, publishes an answer to
/// each and acknowledges it, against a real store server.
/// </summary>
public sealed class NodeServiceTests : IAsyncLifetime
{
    private StoreServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await StoreServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAndDeleteAsync();

    [Fact]
    public async Task A_service_in_javascript_subscribes_publishes_and_resumes_without_recording_anything_twice()
    {
        using var admin = _server.Client();
        using var enrolment = await admin.PostAsync("/api/services", new StringContent(
            """{"name":"shelf audit (node)","publish":["shelf-audit"],"read":["stock"]}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Created, enrolment.StatusCode);
        var token = (await enrolment.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;

        var counts = new List<long>();
        for (var i = 1; i <= 3; i++)
        {
            counts.Add(await CountStockAsync($"shelf-{i}", i));
        }

        var first = await RunAsync(token, 3);
        Assert.Equal((3, 3, 0), first);
        var answers = await AnswersAsync();
        Assert.Equal(["shelf-1", "shelf-2", "shelf-3"], answers.Select(e => e.Key));
        Assert.Equal(counts, answers.Select(e => JsonDocument.Parse(e.Payload).RootElement.GetProperty("countedAt").GetInt64()));
        Assert.Equal(2m, JsonDocument.Parse(answers[1].Payload).RootElement.GetProperty("counted").GetDecimal());

        // Two more counts. The service had answered the first of them and died before acknowledging it (done here by
        // hand, as the script does it): started again, it is given that count again, and the store keeps one answer.
        counts.Add(await CountStockAsync("shelf-4", 4));
        counts.Add(await CountStockAsync("shelf-5", 5));
        using var service = _server.Client(token);
        var answered = $$$"""{"producer":"shelf-audit-node","sparse":true,"events":[{"seq":{{{counts[3]}}},"topic":"shelf-audit","type":"ShelfChecked","key":"shelf-4","payload":{"gtin":"{{{StoreServer.Cola}}}","counted":4,"countedAt":{{{counts[3]}}}}}]}""";
        using (var died = await service.PostAsync("/api/events", new StringContent(answered, System.Text.Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, died.StatusCode);
        }

        var second = await RunAsync(token, 2);
        Assert.Equal((2, 1, 1), second);
        Assert.Equal(["shelf-1", "shelf-2", "shelf-3", "shelf-4", "shelf-5"], (await AnswersAsync()).Select(e => e.Key));
        var state = await service.GetFromJsonAsync<JsonElement>("/api/subscriptions/shelf-audit", Ct);
        Assert.Equal(counts[4], state.GetProperty("acknowledged").GetInt64());
    }

    private async Task<long> CountStockAsync(string shelf, decimal quantity)
    {
        var appended = await _server.Log.AppendAsync(new NewEvent
        {
            Topic = "stock", Type = "StockCounted", Key = shelf, Scope = Scope.Store("s-042"),
            Payload = JsonSerializer.SerializeToUtf8Bytes(new { gtin = StoreServer.Cola, quantity, by = "back office" }),
        }, Ct);
        return appended.Seq;
    }

    private async Task<List<StoredEvent>> AnswersAsync() =>
        [.. (await _server.Log.ReadAsync(0, ReadFilter.ForTopics("shelf-audit"), 1000, Ct)).Events.Where(e => e.Type == "ShelfChecked")];

    /// <summary>Runs the script until it has handled <paramref name="count"/> stock counts; what it says it did.</summary>
    private async Task<(int Handled, int Published, int Duplicates)> RunAsync(string token, int count)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "node-service", "shelf-audit.mjs");
        var start = new ProcessStartInfo("node", [script, count.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            Environment = { ["OUTPOST_URL"] = _server.Address.ToString(), ["OUTPOST_TOKEN"] = token, ["NODE_NO_WARNINGS"] = "1" },
        };
        Process node;
        try
        {
            node = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"Node.js is needed to run the JavaScript service ({ex.Message}); install it with: apt-get install -y nodejs");
            throw;
        }

        using (node)
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            bound.CancelAfter(TimeSpan.FromSeconds(60));
            var output = node.StandardOutput.ReadToEndAsync(bound.Token);
            var errors = node.StandardError.ReadToEndAsync(bound.Token);
            try
            {
                await node.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                node.Kill(entireProcessTree: true);
                Assert.Fail("the Node.js service did not finish within 60 s");
            }

            Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}: {await errors}");
            var said = JsonDocument.Parse((await output).Trim()).RootElement;
            return (said.GetProperty("handled").GetInt32(), said.GetProperty("published").GetInt32(), said.GetProperty("duplicates").GetInt32());
        }
    }
}
