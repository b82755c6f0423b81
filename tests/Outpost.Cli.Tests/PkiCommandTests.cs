using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Outpost.Sync.Security;

namespace Outpost.Cli.Tests;

/// <summary>
/// A trial of HQ over HTTPS with mutual TLS, exactly as docs/security.md tells a retailer to run it: <c>outpost pki</c>
/// makes the CA and the certificates, <c>outpost central</c> serves HTTPS and checks store certificates against the CA
/// and its CRL, <c>outpost store</c> trusts the CA and presents its own certificate. A revoked store is refused and the
/// fleet view says so; settings that cannot work stop each command at start.
/// </summary>
public sealed partial class PkiCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outpost-pki-cli-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string At(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task A_trial_pki_runs_hq_over_mutual_tls_and_a_revoked_store_is_refused_and_shown()
    {
        var pki = At("pki");
        Assert.Equal(0, (await RunAsync("pki", "ca", "--dir", pki)).Exit);
        var again = await RunAsync("pki", "ca", "--dir", pki);
        Assert.Equal(2, again.Exit);
        Assert.Contains("a CA is not made twice over", again.Output, StringComparison.Ordinal);
        var hq = await RunAsync("pki", "hq", "127.0.0.1", "localhost", "--dir", pki);
        Assert.Equal(0, hq.Exit);
        Assert.Equal(0, (await RunAsync("pki", "store", "s1", "--dir", pki)).Exit);
        Assert.Equal(0, (await RunAsync("pki", "store", "s2", "--dir", pki)).Exit);
        Assert.Equal(2, (await RunAsync("pki", "store", "not a store", "--dir", pki)).Exit);
        var revoke = await RunAsync("pki", "revoke", Path.Combine(pki, "s2.pem"), "--dir", pki);
        Assert.Contains("crl.pem revokes 1 certificate(s)", revoke.Output, StringComparison.Ordinal);

        // The pin printed is the key HQ serves; the keys are the service user's alone.
        var pin = (await RunAsync("pki", "pin", Path.Combine(pki, "hq.pem"))).Output.Trim();
        using (var served = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(Path.Combine(pki, "hq.pem"), Path.Combine(pki, "hq.key")))
        {
            Assert.Equal(CertificateCheck.KeyPin(served), pin);
        }

        Assert.Contains("key pin " + pin, hq.Output, StringComparison.Ordinal);
        Assert.False(OperatingSystem.IsWindows(), "Outpost's servers run on Linux");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(pki, "hq.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(pki, "s1.key")));
        }

        var port = FreePort();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var centralOutput = new StringWriter();
        var central = OutpostCommand.RunAsync(["central", "--urls", $"https://127.0.0.1:{port}", "--data", At("hq"), "--admin-token", "t",
            "--tls-certificate", Path.Combine(pki, "hq.pem"), "--tls-key", Path.Combine(pki, "hq.key"),
            "--client-ca", Path.Combine(pki, "ca.pem"), "--client-crl", Path.Combine(pki, "crl.pem"), "--require-client-certificate",
            "--register", "s1:north", "--register", "s2:north"], centralOutput, stop.Token);
        using var admin = AdminClient(pki, port);
        var secrets = new Dictionary<string, string>();
        for (var i = 0; i < 300 && secrets.Count < 2; i++)
        {
            await Task.Delay(50, Ct);
            foreach (Match m in Secret().Matches(centralOutput.ToString()))
            {
                secrets[m.Groups[1].Value] = m.Groups[2].Value;
            }
        }

        Assert.True(secrets.Count == 2, centralOutput.ToString());
        var stores = new List<Task<int>>();
        foreach (var id in new[] { "s1", "s2" })
        {
            var settings = At(id + ".json");
            await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new
            {
                Sync = new { CaBundle = Path.Combine(pki, "ca.pem"), ClientCertificate = Path.Combine(pki, id + ".pem"), ClientKey = Path.Combine(pki, id + ".key") },
            }), Ct);
            stores.Add(OutpostCommand.RunAsync(["store", "--id", id, "--central", $"https://127.0.0.1:{port}/", "--secret", secrets[id], "--data", At(id),
                "--urls", $"http://127.0.0.1:{FreePort()}", "--settings", settings], TextWriter.Null, stop.Token));
        }

        JsonElement s1 = default, s2 = default;
        for (var i = 0; i < 200; i++)
        {
            await Task.Delay(100, Ct);
            try
            {
                var fleet = JsonDocument.Parse(await admin.GetStringAsync("admin/fleet", Ct)).RootElement.EnumerateArray().ToList();
                s1 = fleet.Single(s => s.GetProperty("storeId").GetString() == "s1");
                s2 = fleet.Single(s => s.GetProperty("storeId").GetString() == "s2");
                if (s1.GetProperty("connected").GetBoolean() && s2.GetProperty("error").GetString() is { } error && error.Contains("revoked", StringComparison.Ordinal))
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }
        }

        await stop.CancelAsync();
        Assert.Equal(0, await central);
        Assert.All(await Task.WhenAll(stores), exit => Assert.Equal(0, exit));
        Assert.True(s1.ValueKind == JsonValueKind.Object && s1.GetProperty("connected").GetBoolean(), $"s1: {s1}\n{centralOutput}");
        Assert.Contains("refused by HQ: store s2's certificate", s2.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("was revoked on", s2.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(s2.GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task Tls_settings_that_cannot_work_stop_hq_and_the_store_with_exit_2_naming_them()
    {
        await File.WriteAllTextAsync(At("garbage.pem"), "not a certificate", Ct);
        var half = await RunAsync("central", "--urls", "https://127.0.0.1:0", "--data", At("hq"), "--tls-certificate", At("garbage.pem"));
        Assert.Equal(2, half.Exit);
        Assert.Contains("give both HQ's TLS certificate and its key", half.Output, StringComparison.Ordinal);
        var garbage = await RunAsync("central", "--urls", "https://127.0.0.1:0", "--data", At("hq"), "--tls-certificate", At("garbage.pem"), "--tls-key", At("garbage.pem"));
        Assert.Equal(2, garbage.Exit);
        Assert.Contains("cannot be used", garbage.Output, StringComparison.Ordinal);

        await File.WriteAllTextAsync(At("store.json"), JsonSerializer.Serialize(new { Sync = new { CaBundle = At("garbage.pem") } }), Ct);
        var store = await RunAsync("store", "--id", "s1", "--central", "https://127.0.0.1:1/", "--secret", "x", "--data", At("s1"), "--settings", At("store.json"));
        Assert.Equal(2, store.Exit);
        Assert.Contains("The store's TLS settings for HQ", store.Output, StringComparison.Ordinal);
        Assert.Contains("holds no certificate", store.Output, StringComparison.Ordinal);
    }

    private static HttpClient AdminClient(string pki, int port)
    {
        // The admin trusts HQ the way a store does: the trial CA, the host name dialled.
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = new HqTrust(new CertificateCheck(Path.Combine(pki, "ca.pem")), [], "127.0.0.1").Validate;
        var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "t");
        return client;
    }

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await OutpostCommand.RunAsync(args, output, Ct);
        return (exit, output.ToString());
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"store (\S+) region \S+ secret (\S+)")]
    private static partial Regex Secret();
}
