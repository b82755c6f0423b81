using k8s;
using k8s.Models;
using Outpost.Sync.Rollouts;

namespace Outpost.Deploy;

/// <summary>
/// The store server under podman, as a store without a cluster runs it: the store's manifest (the rendered
/// <c>deploy/kubernetes/overlays/podman-store</c>, its Secrets already podman secrets) is edited for each release (the
/// store container's image and its release settings) and played with <c>podman kube play --replace</c>, which stops the
/// old pod (SIGTERM, then the grace period) and starts the new one on the same volume. The manifest as last applied is
/// kept in the agent's state folder, so the agent knows what runs after a restart of its own.
/// </summary>
public sealed class PodmanRuntime : IStoreRuntime
{
    private static readonly TimeSpan PodmanLimit = TimeSpan.FromMinutes(5);
    private const int BusyRetries = 4;
    private readonly string _manifest;
    private readonly string _applied;
    private readonly IReadOnlyCollection<string> _insecureRegistries;
    private readonly string _container;
    private readonly TimeProvider _time;

    /// <param name="manifest">The store's manifest as installed (YAML, one or more documents; one Deployment has the store container).</param>
    /// <param name="stateDirectory">The agent's folder; the applied manifest is kept there.</param>
    /// <param name="insecureRegistries">Registries (host:port) spoken to over plain HTTP.</param>
    /// <param name="container">The store server's container in the Deployment.</param>
    /// <param name="time">The clock the pauses between attempts are counted on.</param>
    public PodmanRuntime(string manifest, string stateDirectory, IReadOnlyCollection<string> insecureRegistries, string container = "store", TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _manifest = manifest;
        _applied = Path.Combine(stateDirectory, "store-applied.yaml");
        _insecureRegistries = insecureRegistries;
        _container = container;
    }

    /// <inheritdoc/>
    public string Name => "podman";

    /// <inheritdoc/>
    public async Task<bool> HasImageAsync(string image, CancellationToken cancellationToken) =>
        (await PodmanAsync(["image", "exists", image], cancellationToken)).ExitCode == 0;

    /// <inheritdoc/>
    public async Task PullAsync(string image, CancellationToken cancellationToken)
    {
        var reference = ImageReference.Parse(image);
        List<string> arguments = ["pull", "--quiet"];
        if (_insecureRegistries.Contains(reference.Registry, StringComparer.OrdinalIgnoreCase))
        {
            arguments.Add("--tls-verify=false");
        }

        arguments.Add(image);
        var pulled = await PodmanAsync(arguments, cancellationToken);
        if (pulled.ExitCode != 0)
        {
            throw new RuntimeException($"podman could not pull {image}: {pulled.Tail()}");
        }

        // podman checks each blob and the manifest against their digests as it pulls (and refuses a mismatch); this says
        // so on our side too: the image's digests as pulled (an image has one per manifest it came by) include the pinned one.
        var digests = await PodmanAsync(["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", image], cancellationToken);
        if (digests.ExitCode != 0 || !digests.Output.Split('\n').Any(d => d.Trim().EndsWith("@" + reference.Digest, StringComparison.Ordinal)))
        {
            throw new RuntimeException($"the image pulled as {image} does not carry the digest {reference.Digest} (podman has {digests.Output.ReplaceLineEndings(" ").Trim()})");
        }
    }

    /// <inheritdoc/>
    public async Task ApplyAsync(RunningRelease release, CancellationToken cancellationToken)
    {
        var documents = await LoadAsync(cancellationToken);
        var (deployment, container) = StoreContainer(documents);
        ReleaseManifest.Write(deployment.Metadata, container, release);
        // The volume claims are the store's data, which a release never replaces (and podman 4 refuses to play a claim
        // whose volume exists): only the workload is played again; its pod mounts the volume by the claim's name.
        var text = string.Join("\n---\n", documents.Where(d => d is not V1PersistentVolumeClaim).Select(d => KubernetesYaml.Serialize(d).TrimEnd()));
        var next = _applied + ".next";
        await File.WriteAllTextAsync(next, text, cancellationToken);
        // Removing the old container can find its /dev/shm mount still held for a moment after the container stopped
        // ("device or resource busy"); the old pod is then half removed, and playing again finishes the job. Only that
        // is tried again, a bounded number of times; any other failure is the release's and is said at once.
        var played = await PodmanAsync(["kube", "play", "--replace", next], cancellationToken);
        for (var attempt = 1; played.ExitCode != 0 && attempt <= BusyRetries && (played.Output + played.Error).Contains("device or resource busy", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(TimeSpan.FromSeconds(attempt), _time, cancellationToken);
            played = await PodmanAsync(["kube", "play", "--replace", next], cancellationToken);
        }

        if (played.ExitCode != 0)
        {
            throw new RuntimeException($"podman kube play --replace failed: {played.Tail()}");
        }

        File.Move(next, _applied, overwrite: true);
    }

    /// <inheritdoc/>
    public async Task<RunningRelease> CurrentAsync(CancellationToken cancellationToken)
    {
        var (deployment, container) = StoreContainer(await LoadAsync(cancellationToken));
        return ReleaseManifest.Read(deployment.Metadata, container);
    }

    /// <inheritdoc/>
    public async Task<int> RestartsAsync(CancellationToken cancellationToken)
    {
        var (deployment, _) = StoreContainer(await LoadAsync(cancellationToken));
        // podman names a Deployment's pod <name>-pod-0 and its containers <pod>-<container>.
        var name = $"{deployment.Metadata.Name}-pod-0-{_container}";
        var inspect = await PodmanAsync(["inspect", "--type", "container", "--format", "{{.RestartCount}}", name], cancellationToken);
        return inspect.ExitCode == 0 && int.TryParse(inspect.Output.Trim(), out var restarts) ? restarts : 0;
    }

    private async Task<List<object>> LoadAsync(CancellationToken cancellationToken)
    {
        var path = File.Exists(_applied) ? _applied : _manifest;
        try
        {
            return KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(path, cancellationToken));
        }
        catch (Exception ex) when (ex is IOException or YamlDotNet.Core.YamlException)
        {
            throw new RuntimeException($"the store's manifest {path} cannot be read: {ex.Message}", ex);
        }
    }

    private (V1Deployment Deployment, V1Container Container) StoreContainer(List<object> documents)
    {
        foreach (var deployment in documents.OfType<V1Deployment>())
        {
            if (deployment.Spec?.Template?.Spec?.Containers?.FirstOrDefault(c => c.Name == _container) is { } container)
            {
                return (deployment, container);
            }
        }

        throw new RuntimeException($"the store's manifest has no Deployment with a container named '{_container}'");
    }

    private static Task<ToolResult> PodmanAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        Tool.RunAsync("podman", arguments, PodmanLimit, cancellationToken);
}
