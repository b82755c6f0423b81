using System.Diagnostics;

namespace Outpost.Testing;

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

    /// <summary>
    /// Puts a small but real OCI image (a config blob, one layer, a manifest) into <paramref name="repository"/> through the
    /// registry's own API, with no image tool, and returns the manifest's digest (sha256:…).
    /// </summary>
    public async Task<string> PutImageAsync(string repository, string tag, string content)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{Address}/"), Timeout = TimeSpan.FromSeconds(10) };
        var layer = System.Text.Encoding.UTF8.GetBytes(content);
        var config = System.Text.Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var layerDigest = await PutBlobAsync(http, repository, layer);
        var configDigest = await PutBlobAsync(http, repository, config);
        var manifest = System.Text.Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{layerDigest}}","size":{{layer.Length}}}]}
            """);
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var put = await http.PutAsync($"v2/{repository}/manifests/{tag}", body, TestContext.Current.CancellationToken);
        Assert.True(put.IsSuccessStatusCode, $"PUT manifest: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return Digest(manifest);
    }

    private static async Task<string> PutBlobAsync(HttpClient http, string repository, byte[] blob)
    {
        var digest = Digest(blob);
        using var start = await http.PostAsync($"v2/{repository}/blobs/uploads/", null, TestContext.Current.CancellationToken);
        Assert.True(start.IsSuccessStatusCode, $"POST blob upload: {(int)start.StatusCode}");
        var location = start.Headers.Location!;
        var url = (location.IsAbsoluteUri ? location.ToString() : new Uri(http.BaseAddress!, location).ToString()) + (location.ToString().Contains('?', StringComparison.Ordinal) ? "&" : "?") + "digest=" + digest;
        using var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var put = await http.PutAsync(url, content, TestContext.Current.CancellationToken);
        Assert.True(put.IsSuccessStatusCode, $"PUT blob: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return digest;
    }

    private static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

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
