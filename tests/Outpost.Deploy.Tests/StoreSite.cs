using System.Diagnostics;
using System.Text;

namespace Outpost.Deploy.Tests;

/// <summary>
/// One store of a rollout test, as a store without a cluster runs: its own podman image store and volumes (a storage
/// root of its own, so that what it pulls is its own), the store server played from the podman-store manifests pinned
/// to an image digest in the test's registry, and the deploy agent (<c>outpost agent</c>, the binary of the image under
/// test) as its own process beside it, with the agent's device token from the store's back office.
/// </summary>
public sealed class StoreSite : IAsyncDisposable
{
    private readonly StringBuilder _agentOutput = new();
    private readonly string _directory;
    private Process? _agent;

    private StoreSite(string storeId, int port, string directory, Dictionary<string, string> podman, KubePlay play)
    {
        StoreId = storeId;
        Url = $"http://127.0.0.1:{port}";
        _directory = directory;
        Podman = podman;
        Play = play;
    }

    public string StoreId { get; }

    public string Url { get; }

    /// <summary>The environment that points podman at this store's own storage and at the test's registry.</summary>
    public Dictionary<string, string> Podman { get; }

    public KubePlay Play { get; }

    /// <summary>Plays the store's manifests with <paramref name="image"/> (pinned by digest) and waits until it is ready.</summary>
    public static async Task<StoreSite> StartAsync(string storeId, int port, string image, string centralUrl, string hqSecret, string adminToken, string registry)
    {
        var directory = Path.Combine(Path.GetTempPath(), "outpost-deploy-tests", "sites", storeId);
        await ResetStorageAsync(directory);
        Directory.CreateDirectory(directory);
        var storage = Path.Combine(directory, "storage.conf");
        await File.WriteAllTextAsync(storage, $"""
            [storage]
            driver = "overlay"
            graphroot = "{Path.Combine(directory, "root")}"
            runroot = "{Path.Combine(directory, "run")}"
            """);
        var registries = Path.Combine(directory, "registries.conf");
        await File.WriteAllTextAsync(registries, $"""
            [[registry]]
            location = "{registry}"
            insecure = true
            """);
        var podman = new Dictionary<string, string> { ["CONTAINERS_STORAGE_CONF"] = storage, ["CONTAINERS_REGISTRIES_CONF"] = registries };
        var (name, digest) = (image.Split('@')[0], image.Split('@')[1]);
        var play = await KubePlay.StartAsync("overlays/podman-store", $$"""
            namePrefix: {{storeId}}-
            images:
              - name: localhost/outpost
                newName: {{name}}
                digest: {{digest}}
            patches:
              - target: {kind: Secret, name: outpost-store-credentials}
                patch: |-
                  - {op: replace, path: /stringData/hq-secret, value: {{hqSecret}}}
                  - {op: replace, path: /stringData/admin-token, value: {{adminToken}}}
              - target: {kind: ConfigMap, name: outpost-store-settings}
                patch: |-
                  - {op: replace, path: /data/OUTPOST_STORE_StoreId, value: {{storeId}}}
                  - {op: replace, path: /data/OUTPOST_STORE_Urls, value: "http://127.0.0.1:{{port}}"}
                  - {op: replace, path: /data/OUTPOST_STORE_Central, value: "{{centralUrl}}"}
              - target: {kind: Deployment, name: outpost-store}
                patch: |-
                  - {op: replace, path: /spec/template/spec/containers/0/startupProbe/httpGet/port, value: {{port}}}
                  - {op: replace, path: /spec/template/spec/containers/0/readinessProbe/httpGet/port, value: {{port}}}
                  - {op: replace, path: /spec/template/spec/containers/0/livenessProbe/httpGet/port, value: {{port}}}
            """, podman);
        var site = new StoreSite(storeId, port, directory, podman, play);
        await Fleet.WaitReadyAsync(site.Url, TimeSpan.FromSeconds(120), play.LogsAsync);
        return site;
    }

    /// <summary>Starts the deploy agent for this store.</summary>
    public void StartAgent(string binary, string token, string registry, int soakSeconds)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "agent", "--store", Url + "/", "--state", Path.Combine(_directory, "agent"), "--runtime", "podman", "--manifest", Play.ManifestFile,
                     "--soak-seconds", soakSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--start-seconds", "60", "--poll-seconds", "1",
                     "--insecure-registry", registry })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CONTAINERS_CONF"] = Shell.ContainersConf;
        foreach (var (key, value) in Podman)
        {
            start.Environment[key] = value;
        }

        start.Environment["OUTPOST_AGENT_TOKEN"] = token;
        _agent = Process.Start(start)!;
        _agent.OutputDataReceived += (_, e) => Append(e.Data);
        _agent.ErrorDataReceived += (_, e) => Append(e.Data);
        _agent.BeginOutputReadLine();
        _agent.BeginErrorReadLine();
    }

    /// <summary>What the agent printed, and the store's pod logs (for a failure message).</summary>
    public async Task<string> DiagnoseAsync()
    {
        string agent;
        lock (_agentOutput)
        {
            agent = _agentOutput.ToString();
        }

        return $"--- agent of {StoreId}:{Environment.NewLine}{(agent.Length > 6000 ? agent[^6000..] : agent)}{Environment.NewLine}{await Play.LogsAsync()}";
    }

    /// <summary>Whether this store's own image store holds <paramref name="image"/>.</summary>
    public async Task<bool> HasImageAsync(string image) => (await Play.PodmanAsync("image", "exists", image)).ExitCode == 0;

    public async ValueTask DisposeAsync()
    {
        if (_agent is { HasExited: false })
        {
            _agent.Kill(entireProcessTree: true);
            await _agent.WaitForExitAsync();
        }

        _agent?.Dispose();
        await Play.DisposeAsync();
        await ResetStorageAsync(_directory);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_agentOutput)
            {
                _agentOutput.AppendLine(line);
            }
        }
    }

    private static readonly string[][] Cleanup = [["pod", "rm", "-af", "-t", "0"], ["rm", "-af", "-t", "0"], ["volume", "rm", "-af"], ["secret", "rm", "-a"], ["rmi", "-af"]];

    // Whatever an earlier run left: containers, images and volumes of this store's storage, then its folder.
    private static async Task ResetStorageAsync(string directory)
    {
        var storage = Path.Combine(directory, "storage.conf");
        if (File.Exists(storage))
        {
            // Not "podman system reset": that also removes the machine's networks, which are not this store's.
            var env = new Dictionary<string, string> { ["CONTAINERS_STORAGE_CONF"] = storage };
            foreach (var command in Cleanup)
            {
                await Shell.RunAsync("podman", command, TimeSpan.FromMinutes(2), environment: env);
            }

            await Shell.RunAsync("umount", ["-R", Path.Combine(directory, "root", "overlay")], TimeSpan.FromSeconds(30));
        }

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
