using k8s.Models;
using Outpost.Testing;

namespace Outpost.Deploy.Tests;

/// <summary>
/// What the deploy agent relies on from a runtime adapter, asked of each adapter alike: podman for real
/// (<see cref="PodmanRuntimeContractTests"/>), Kubernetes against a fake API server (<see cref="KubernetesRuntimeContractTests"/>).
/// The store starts on <see cref="Installed"/> with its own setting <c>OUTPOST_STORE_StoreId</c>.
/// </summary>
public abstract class RuntimeContract : IAsyncLifetime
{
    protected const string StoreId = "contract-1";

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected IStoreRuntime Runtime { get; set; } = null!;

    /// <summary>The image the store runs when installed.</summary>
    protected string Installed { get; set; } = "";

    /// <summary>Another image the registry holds.</summary>
    protected string Other { get; set; } = "";

    /// <summary>An image reference the registry does not hold.</summary>
    protected string Missing { get; set; } = "";

    public abstract ValueTask InitializeAsync();

    public abstract ValueTask DisposeAsync();

    /// <summary>The environment of the store's container as the runtime runs it.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> EnvironmentAsync();

    /// <summary>Makes the store's container exit (podman: it exits by itself; the fake: its kubelet says so).</summary>
    protected abstract Task CrashAsync();

    [Fact]
    public async Task The_installed_store_is_read_as_installed_with_its_image_and_no_release_settings()
    {
        var current = await Runtime.CurrentAsync(Ct);
        Assert.Equal("installed", current.Version);
        Assert.Equal(Installed, current.Image);
        Assert.Empty(current.Settings);
    }

    [Fact]
    public async Task A_release_applied_runs_its_image_with_its_settings_and_the_store_keeps_its_own_environment()
    {
        await Runtime.PullAsync(Other, Ct);
        var release = new RunningRelease("1.0.1", Other, new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "75" });
        await Runtime.ApplyAsync(release, Ct);
        var current = await Runtime.CurrentAsync(Ct);
        Assert.True(current.SameAs(release), $"runs {current}");
        Assert.Equal("1.0.1", current.Version);
        var environment = await EnvironmentAsync();
        Assert.Equal("75", environment["OUTPOST_STORE_Retail__Checkout__OfflineFloorLimit"]);
        Assert.Equal(StoreId, environment["OUTPOST_STORE_StoreId"]);

        // The next release (back to the installed image, another setting) replaces the first one's settings.
        var next = new RunningRelease("1.0.2", Installed, new Dictionary<string, string> { ["Retail:Checkout:Currency"] = "GBP" });
        await Runtime.ApplyAsync(next, Ct);
        Assert.True((await Runtime.CurrentAsync(Ct)).SameAs(next));
        environment = await EnvironmentAsync();
        Assert.False(environment.ContainsKey("OUTPOST_STORE_Retail__Checkout__OfflineFloorLimit"));
        Assert.Equal("GBP", environment["OUTPOST_STORE_Retail__Checkout__Currency"]);
        Assert.Equal(StoreId, environment["OUTPOST_STORE_StoreId"]);
    }

    [Fact]
    public async Task Restarts_of_the_store_container_are_counted()
    {
        await CrashAsync();
        var restarts = 0;
        for (var i = 0; i < 300 && restarts == 0; i++)
        {
            restarts = await Runtime.RestartsAsync(Ct);
            await Task.Delay(restarts == 0 ? 100 : 0, Ct);
        }

        Assert.True(restarts > 0, "no restart counted");
    }

    [Fact]
    public async Task An_image_is_pulled_into_the_local_store_and_one_the_registry_does_not_hold_is_refused_with_why()
    {
        await Runtime.PullAsync(Other, Ct);
        Assert.True(await Runtime.HasImageAsync(Other, Ct));
        Assert.False(await Runtime.HasImageAsync(Missing, Ct));
        var refused = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.PullAsync(Missing, Ct));
        Assert.Contains(Missing, refused.Message, StringComparison.Ordinal);
        Assert.False(await Runtime.HasImageAsync(Missing, Ct));
    }
}

/// <summary>The contract of the podman runtime, run for real: a registry, <c>podman kube play</c>, the image under test.</summary>
[Collection(Containers.Name)]
public sealed class PodmanRuntimeContractTests(Images images) : RuntimeContract
{
    private Registry? _registry;
    private string _directory = "";

    public override async ValueTask InitializeAsync()
    {
        _registry = await Registry.StartAsync();
        Installed = await Images.PushAsync(_registry, Images.Outpost, "1.0.0");
        Other = await Images.PushAsync(_registry, await images.NextAsync(), "1.0.1");
        Missing = $"{_registry.Address}/outpost@sha256:{new string('0', 64)}";
        _directory = Directory.CreateTempSubdirectory("outpost-contract-").FullName;
        var manifest = Path.Combine(_directory, "store.yaml");
        // The image's command with --version exits at once: the restart policy starts it again, and again.
        await File.WriteAllTextAsync(manifest, $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: contract-store
            spec:
              replicas: 1
              selector:
                matchLabels: {app: contract-store}
              template:
                metadata:
                  labels: {app: contract-store}
                spec:
                  containers:
                    - name: store
                      image: {{Installed}}
                      args: ["--version"]
                      env:
                        - {name: OUTPOST_STORE_StoreId, value: {{StoreId}}}
            """, Ct);
        // The runtime runs podman as the agent does, with the agent's environment: this machine's podman settings (TOOLCHAIN).
        Environment.SetEnvironmentVariable("CONTAINERS_CONF", Shell.ContainersConf);
        Runtime = new PodmanRuntime(manifest, _directory, [_registry.Address]);
        await Runtime.PullAsync(Installed, Ct);
        var played = await Shell.RunAsync("podman", ["kube", "play", "--replace", manifest], TimeSpan.FromMinutes(2));
        Assert.True(played.ExitCode == 0, played.All);
    }

    public override async ValueTask DisposeAsync()
    {
        await Shell.PodmanQuietAsync("pod", "rm", "-f", "-t", "0", "contract-store-pod-0");
        foreach (var image in new[] { Other, Installed })
        {
            await Shell.PodmanQuietAsync("rmi", image);
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    protected override async Task<IReadOnlyDictionary<string, string>> EnvironmentAsync()
    {
        var lines = await Shell.PodmanAsync("inspect", "--type", "container", "--format", "{{range .Config.Env}}{{println .}}{{end}}", "contract-store-pod-0-store");
        return lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
    }

    protected override Task CrashAsync() => Task.CompletedTask; // "--version" exits by itself

}

/// <summary>
/// The contract of the Kubernetes runtime against <see cref="FakeKubernetes"/> (no cluster runs on this machine), plus what
/// only a cluster does: a PUT that lost a race is refused, a stalled rollout is reported with the controller's words.
/// </summary>
public sealed class KubernetesRuntimeContractTests : RuntimeContract
{
    private FakeKubernetes? _api;

    public override async ValueTask InitializeAsync()
    {
        Installed = "registry.example:5000/outpost@sha256:" + new string('1', 64);
        Other = "registry.example:5000/outpost@sha256:" + new string('2', 64);
        Missing = "registry.example:5000/outpost@sha256:" + new string('0', 64);
        var labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "outpost-store" };
        _api = await FakeKubernetes.StartAsync(new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = "outpost-store", NamespaceProperty = FakeKubernetes.Namespace },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "store", Image = Installed, Env = [new V1EnvVar { Name = "OUTPOST_STORE_StoreId", Value = StoreId }] }] },
                },
            },
        });
        _api.Registry.Add(Installed);
        _api.Registry.Add(Other);
        Runtime = new KubernetesRuntime(_api.Client(), FakeKubernetes.Namespace) { RolloutLimit = TimeSpan.FromSeconds(5) };
    }

    public override async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }

    protected override Task<IReadOnlyDictionary<string, string>> EnvironmentAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(_api!.Deployment.Spec.Template.Spec.Containers.Single(c => c.Name == "store").Env
            .ToDictionary(e => e.Name, e => e.Value));

    protected override Task CrashAsync()
    {
        _api!.Restarts = 2;
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_stalled_rollout_is_refused_with_the_controllers_words()
    {
        _api!.Stall = true;
        var stalled = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.ApplyAsync(new RunningRelease("1.0.1", Other, new Dictionary<string, string>()), Ct));
        Assert.Contains("timed out progressing", stalled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_pre_pull_pod_is_removed_after_the_pull_and_the_deployment_is_replaced_by_resource_version()
    {
        await Runtime.PullAsync(Other, Ct);
        await Runtime.ApplyAsync(new RunningRelease("1.0.1", Other, new Dictionary<string, string>()), Ct);
        var requests = _api!.Requests.ToList();
        Assert.Contains(requests, r => r.StartsWith($"POST /api/v1/namespaces/{FakeKubernetes.Namespace}/pods", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.StartsWith($"DELETE /api/v1/namespaces/{FakeKubernetes.Namespace}/pods/outpost-prepull-222222222222", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.StartsWith($"PUT /apis/apps/v1/namespaces/{FakeKubernetes.Namespace}/deployments/outpost-store", StringComparison.Ordinal));
        Assert.Equal("2", _api.Deployment.Metadata.ResourceVersion);
    }
}
