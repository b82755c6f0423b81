using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Central.Admin;
using Outpost.Central.Stores;

namespace Outpost.Sync.Tests;

/// <summary>
/// Secrets at rest and in logs, over a full run of real processes (<c>outpost central</c> and <c>outpost store</c>):
/// the admin tokens, the store's secret (before and after a rotation that makes the store fail and log its failures),
/// a device token, a pairing code and a wrong token all go through both; then neither process's output (its logs) nor
/// any file in either data folder holds any of them in clear, and both data folders are readable by their owner only.
/// </summary>
public sealed class SecretsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-secrets-tests", Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_secret_used_in_a_full_run_is_in_any_log_or_data_file_and_the_data_folders_are_private()
    {
        var hqAdmin = "hq-admin-" + Guid.NewGuid().ToString("N");
        var storeAdmin = "store-admin-" + Guid.NewGuid().ToString("N");
        var (hqPort, storePort) = (ChildProcess.FreePort(), ChildProcess.FreePort());
        using var hq = ChildProcess.Start(new Dictionary<string, string> { ["OUTPOST_ADMIN_TOKEN"] = hqAdmin },
            "central", "--urls", $"http://127.0.0.1:{hqPort}", "--data", Path.Combine(_directory, "hq"));
        await hq.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        using var admin = Client(hqPort, hqAdmin);
        var secret = (await (await admin.PostAsJsonAsync("admin/stores", new RegisterStore("s1", "north"), Ct)).Content.ReadFromJsonAsync<IssuedCredential>(Ct))!.Secret;

        using var store = ChildProcess.Start(new Dictionary<string, string> { ["OUTPOST_STORE_SECRET"] = secret, ["OUTPOST_STORE_AdminToken"] = storeAdmin },
            "store", "--id", "s1", "--central", $"http://127.0.0.1:{hqPort}/", "--data", Path.Combine(_directory, "s1"), "--urls", $"http://127.0.0.1:{storePort}");
        await store.WaitForLineAsync(l => l.Contains("pair the back office", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        using var back = Client(storePort, storeAdmin);
        var code = (await (await back.PostAsJsonAsync("/api/devices/pairings", new { name = "Till 1", role = "till" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("code").GetString()!;
        using var anonymous = Client(storePort, null);
        var token = (await (await anonymous.PostAsJsonAsync("/api/pair", new { code, credential = "body" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("token").GetString()!;
        using var till = Client(storePort, token);
        (await till.PostAsJsonAsync("/api/baskets", new { }, Ct)).EnsureSuccessStatusCode();
        using var wrong = Client(storePort, "wrong-" + token);
        await wrong.GetAsync("/api/menu", Ct);

        // The store syncs, then its secret is rotated at HQ: it is refused, and logs so, until given the new one.
        Assert.True(await Cluster.EventuallyAsync(async () =>
            JsonDocument.Parse(await admin.GetStringAsync("admin/fleet", Ct)).RootElement.EnumerateArray().Any(s => s.GetProperty("connected").GetBoolean()), TimeSpan.FromSeconds(60)));
        var rotated = (await (await admin.PostAsync("admin/stores/s1/rotate", null, Ct)).Content.ReadFromJsonAsync<IssuedCredential>(Ct))!.Secret;
        await store.WaitForLineAsync(l => l.Contains("secret is wrong", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        store.Stop();
        hq.Stop();
        var secrets = new Dictionary<string, string>
        {
            ["HQ admin token"] = hqAdmin,
            ["store admin token"] = storeAdmin,
            ["store secret"] = secret,
            ["rotated store secret"] = rotated,
            ["device token"] = token,
            ["pairing code"] = code,
        };
        var logs = string.Join('\n', hq.Lines.Concat(store.Lines));
        Assert.Contains("secret is wrong", logs, StringComparison.Ordinal); // the failures were logged: the scan below reads real logs
        foreach (var (what, value) in secrets)
        {
            Assert.False(logs.Contains(value, StringComparison.Ordinal), $"the {what} is in a process's output");
            foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
            {
                var bytes = await File.ReadAllBytesAsync(file, Ct);
                Assert.False(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(value)) >= 0, $"the {what} is in clear in {Path.GetRelativePath(_directory, file)}");
            }
        }

        Assert.False(OperatingSystem.IsWindows(), "Outpost's servers run on Linux");
        if (!OperatingSystem.IsWindows())
        {
            foreach (var folder in new[] { "hq", "s1" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_directory, folder)));
            }
        }
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
