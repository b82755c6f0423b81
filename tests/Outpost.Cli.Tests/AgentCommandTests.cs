using System.Net;

namespace Outpost.Cli.Tests;

/// <summary><c>outpost agent</c> as a cluster runs it: its probes, and the settings it cannot start without.</summary>
public sealed class AgentCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outpost-agent-cli-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_agent_answers_live_at_once_and_ready_after_its_first_pass_even_with_the_store_away()
    {
        var manifest = Path.Combine(_directory, "store.yaml");
        await File.WriteAllTextAsync(manifest, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: outpost-store}\n", Ct);
        var (store, health) = (FreePort(), FreePort());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var output = new StringWriter();
        var running = OutpostCommand.RunAsync(["agent", "--store", $"http://127.0.0.1:{store}/", "--token", "t", "--state", Path.Combine(_directory, "state"),
            "--manifest", manifest, "--poll-seconds", "1", "--health-urls", $"http://127.0.0.1:{health}"], output, stop.Token);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{health}/"), Timeout = TimeSpan.FromSeconds(5) };
        var ready = HttpStatusCode.ServiceUnavailable;
        var live = HttpStatusCode.ServiceUnavailable;
        for (var i = 0; i < 200 && ready != HttpStatusCode.OK; i++)
        {
            try
            {
                live = (await client.GetAsync("health/live", Ct)).StatusCode;
                ready = (await client.GetAsync("health/ready", Ct)).StatusCode;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(ready == HttpStatusCode.OK ? 0 : 100, Ct);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await running);
        Assert.Equal(HttpStatusCode.OK, live);
        Assert.True(ready == HttpStatusCode.OK, output.ToString());
        Assert.Contains("outpost agent stopped", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--store", "not a url", "is not an http(s) address")]
    [InlineData("--runtime", "docker", "is not one the agent knows: podman or kubernetes")]
    [InlineData("--manifest", "/nowhere/store.yaml", "give the store's manifest as installed")]
    public async Task A_setting_the_agent_cannot_work_with_stops_it_at_start_with_exit_2_naming_it(string option, string value, string message)
    {
        var manifest = Path.Combine(_directory, "store.yaml");
        await File.WriteAllTextAsync(manifest, "kind: Deployment\n", Ct);
        List<string> args = ["agent", "--token", "t", "--state", Path.Combine(_directory, "state")];
        args.AddRange(option == "--manifest" ? [option, value] : ["--manifest", manifest, option, value]);
        using var output = new StringWriter();
        Assert.Equal(2, await OutpostCommand.RunAsync([.. args], output, Ct));
        Assert.Contains(message, output.ToString(), StringComparison.Ordinal);

        using var noToken = new StringWriter();
        Environment.SetEnvironmentVariable("OUTPOST_AGENT_TOKEN", null);
        Assert.Equal(2, await OutpostCommand.RunAsync(["agent", "--state", Path.Combine(_directory, "state"), "--manifest", manifest], noToken, Ct));
        Assert.Contains("Give the agent's device token", noToken.ToString(), StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
