using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Central.Admin;
using Outpost.Central.Stores;

namespace Outpost.Sync.Tests;

/// <summary>
/// Store servers and HQ log to the console as JSON, one object a line, with the store, the node and the trace id (the
/// container convention): the real `outpost` commands, as child processes.
/// </summary>
public sealed class ConsoleLogTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("outpost-console-log-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HQ_and_a_store_log_json_lines_with_the_store_the_node_and_the_trace_id_of_the_request()
    {
        var admin = "admin-" + Guid.NewGuid().ToString("N");
        var (hqPort, storePort) = (ChildProcess.FreePort(), ChildProcess.FreePort());
        using var hq = ChildProcess.Start(new Dictionary<string, string> { ["OUTPOST_ADMIN_TOKEN"] = admin, ["OUTPOST_LOG_FORMAT"] = "json" },
            "central", "--urls", $"http://127.0.0.1:{hqPort}", "--data", Path.Combine(_directory, "hq"), "--log-level", "Information");
        await hq.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal), Bound);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", admin);
        var secret = (await (await http.PostAsJsonAsync($"http://127.0.0.1:{hqPort}/admin/stores", new RegisterStore("log-1", "north"), Ct))
            .Content.ReadFromJsonAsync<IssuedCredential>(Ct))!.Secret;

        using var store = ChildProcess.Start(new Dictionary<string, string> { ["OUTPOST_STORE_SECRET"] = secret },
            "store", "--id", "log-1", "--central", $"http://127.0.0.1:{hqPort}/", "--data", Path.Combine(_directory, "log-1"), "--urls", $"http://127.0.0.1:{storePort}",
            "--log-format", "json", "--log-level", "Information");
        await store.WaitForLineAsync(l => l.Contains("pair the back office", StringComparison.Ordinal), Bound);

        // A request with a W3C trace context: each node's entries for it carry that trace.
        var trace = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        foreach (var port in new[] { hqPort, storePort })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/health/ready");
            request.Headers.Add("traceparent", $"00-{trace}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))}-01");
            (await http.SendAsync(request, Ct)).EnsureSuccessStatusCode();
        }

        JsonElement Traced(ChildProcess node) => JsonDocument.Parse(node.Lines.First(l => l.StartsWith('{') && l.Contains(trace, StringComparison.Ordinal))).RootElement;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(hq.Lines.Concat(store.Lines).Count(l => l.Contains(trace, StringComparison.Ordinal)) >= 2), Bound),
            "no entry carried the request's trace:\n" + string.Join('\n', hq.Lines.Concat(store.Lines).TakeLast(40)));
        var atStore = Traced(store);
        var atHq = Traced(hq);
        Assert.Equal(("log-1", trace, "Information"), (atStore.GetProperty("store").GetString(), atStore.GetProperty("traceId").GetString(), atStore.GetProperty("level").GetString()));
        Assert.Equal(trace, atHq.GetProperty("traceId").GetString());
        Assert.False(atHq.TryGetProperty("store", out _)); // HQ's entries are HQ's
        foreach (var entry in new[] { atStore, atHq })
        {
            Assert.Equal(Environment.MachineName, entry.GetProperty("node").GetString());
            Assert.Equal(16, entry.GetProperty("spanId").GetString()!.Length);
            Assert.StartsWith("Microsoft.AspNetCore", entry.GetProperty("category").GetString(), StringComparison.Ordinal);
            Assert.True(entry.GetProperty("time").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
            Assert.Contains("/health/ready", entry.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Every entry is a JSON object on its own line (the command's own start-up lines aside, which are not log entries).
        Assert.All(store.Lines.Concat(hq.Lines).Where(l => l.StartsWith('{')), l => JsonDocument.Parse(l).Dispose());
        Assert.True(store.Lines.Count(l => l.StartsWith('{')) > 3);
        store.Stop();
        hq.Stop();
    }

    [Fact]
    public async Task An_unknown_log_format_or_level_stops_the_node_with_a_line_naming_the_setting()
    {
        using var badFormat = ChildProcess.Start("central", "--urls", $"http://127.0.0.1:{ChildProcess.FreePort()}", "--data", Path.Combine(_directory, "a"), "--log-format", "xml");
        Assert.Contains("log format 'xml' is not one of text, json", await badFormat.WaitForLineAsync(l => l.Contains("log format", StringComparison.Ordinal), Bound), StringComparison.Ordinal);
        using var badLevel = ChildProcess.Start(new Dictionary<string, string> { ["OUTPOST_STORE_LOG_LEVEL"] = "loud" },
            "store", "--id", "log-2", "--data", Path.Combine(_directory, "b"), "--urls", $"http://127.0.0.1:{ChildProcess.FreePort()}");
        Assert.Contains("OUTPOST_STORE_LOG_LEVEL", await badLevel.WaitForLineAsync(l => l.Contains("log level 'loud'", StringComparison.Ordinal), Bound), StringComparison.Ordinal);
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(badFormat.HasExited && badLevel.HasExited), Bound), "a node with bad log settings kept running");
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
}
