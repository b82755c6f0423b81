using System.Diagnostics;

namespace Outpost.Deploy.Tests;

/// <summary>A real OCI registry (Debian's docker-registry, the CNCF distribution) on a free loopback port, with its storage in a temp folder.</summary>
public sealed class Registry : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private Registry(Process process, string directory, string address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    /// <summary>host:port, for image references such as <c>{Address}/outpost:1.0.0</c>.</summary>
    public string Address { get; }

    public static async Task<Registry> StartAsync()
    {
        Assert.True(File.Exists("/usr/bin/docker-registry"), "The registry tests need Debian's docker-registry: apt-get install -y docker-registry (./test.sh does this when run as root).");
        var directory = Directory.CreateTempSubdirectory("outpost-registry-").FullName;
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        listener.Stop();
        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log: {"{"}level: warn{"}"}
            storage: {"{"}filesystem: {"{"}rootdirectory: {Path.Combine(directory, "data")}{"}"}, delete: {"{"}enabled: true{"}"}{"}"}
            http: {"{"}addr: {address}{"}"}
            """);
        var process = Process.Start(new ProcessStartInfo("/usr/bin/docker-registry", ["serve", config])
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new Registry(process, directory, address);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await client.GetAsync($"http://{address}/v2/", TestContext.Current.CancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return registry;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.False(process.HasExited, $"docker-registry exited with {(process.HasExited ? process.ExitCode : 0)}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        await registry.DisposeAsync();
        throw new TimeoutException($"docker-registry did not answer on {address} within 10 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
