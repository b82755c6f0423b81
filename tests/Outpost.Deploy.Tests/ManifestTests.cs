using k8s;
using k8s.Models;

namespace Outpost.Deploy.Tests;

/// <summary>The Kubernetes manifests: valid against the API's types, and shaped as a store operator relies on.</summary>
public sealed class ManifestTests
{
    public static TheoryData<string> Directories => ["store", "store-agent", "food-safety", "central", "postgres", "trial", "overlays/podman-store", "overlays/podman-hq"];

    [Theory]
    [MemberData(nameof(Directories))]
    public async Task Every_kustomization_renders_to_objects_the_kubernetes_api_accepts_and_every_reference_resolves(string directory)
    {
        var objects = Manifests.Load(await Shell.KustomizeAsync(Manifests.Directory(directory)));

        Assert.NotEmpty(objects);
        var configMaps = objects.OfType<V1ConfigMap>().Select(c => c.Metadata.Name).ToHashSet();
        var secrets = objects.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name, s => (s.StringData?.Keys ?? []).Concat(s.Data?.Keys ?? []).ToHashSet());
        var claims = objects.OfType<V1PersistentVolumeClaim>().Select(c => c.Metadata.Name).ToHashSet();
        foreach (var (name, labels, spec, claimTemplates) in Workloads(objects))
        {
            foreach (var container in spec.Containers)
            {
                Assert.False(string.IsNullOrEmpty(container.Image), $"{name}/{container.Name} names no image");
                Assert.True(container.SecurityContext is { AllowPrivilegeEscalation: false, ReadOnlyRootFilesystem: true, RunAsNonRoot: true },
                    $"{name}/{container.Name}: non-root, read-only root, no privilege escalation");
                Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
                Assert.NotNull(container.Resources?.Requests);
                Assert.True(container.Resources.Limits?.ContainsKey("memory") == true, $"{name}/{container.Name} has no memory limit");
                Assert.NotNull(container.ReadinessProbe);
                Assert.NotNull(container.LivenessProbe);
                foreach (var from in container.EnvFrom ?? [])
                {
                    Assert.Contains(from.ConfigMapRef.Name, configMaps);
                }

                foreach (var env in (container.Env ?? []).Where(e => e.ValueFrom?.SecretKeyRef is not null))
                {
                    var reference = env.ValueFrom.SecretKeyRef;
                    Assert.True(secrets.TryGetValue(reference.Name, out var keys) && keys.Contains(reference.Key),
                        $"{name}: {env.Name} refers to secret {reference.Name} key {reference.Key}, which this rendering does not hold");
                }
            }

            foreach (var volume in spec.Volumes ?? [])
            {
                if (volume.PersistentVolumeClaim is { } claim)
                {
                    Assert.Contains(claim.ClaimName, claims);
                }
            }

            Assert.True(spec.SecurityContext is { RunAsNonRoot: true }, $"{name}: the pod runs as non-root");
            Assert.All(spec.Containers.SelectMany(c => c.VolumeMounts ?? []), m =>
                Assert.True((spec.Volumes ?? []).Any(v => v.Name == m.Name) || claimTemplates.Contains(m.Name), $"{name}: mount {m.Name} has no volume"));
            Assert.NotEmpty(labels);
        }

        foreach (var service in objects.OfType<V1Service>())
        {
            Assert.Contains(Workloads(objects), w => service.Spec.Selector.All(s => w.Labels.TryGetValue(s.Key, out var v) && v == s.Value));
        }
    }

    [Fact]
    public async Task The_store_runs_one_pod_at_a_time_on_its_own_volume_with_probes_on_the_health_endpoints()
    {
        var objects = Manifests.Load(await Shell.KustomizeAsync(Manifests.Directory("store")));
        var store = Manifests.Named<V1Deployment>(objects, "outpost-store");

        Assert.Equal(1, store.Spec.Replicas);
        Assert.Equal("Recreate", store.Spec.Strategy.Type); // one writer per log file: never two pods on one volume
        var container = Assert.Single(store.Spec.Template.Spec.Containers);
        Assert.Equal(["store"], container.Args);
        Assert.Equal("/health/ready", container.StartupProbe.HttpGet.Path);
        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal(30, store.Spec.Template.Spec.TerminationGracePeriodSeconds);
        Assert.Equal("/data", Assert.Single(container.VolumeMounts).MountPath);
        var settings = Manifests.Named<V1ConfigMap>(objects, "outpost-store-settings").Data;
        foreach (var key in new[] { "OUTPOST_STORE_StoreId", "OUTPOST_STORE_Region", "OUTPOST_STORE_TimeZone", "OUTPOST_STORE_Central" })
        {
            Assert.True(settings.ContainsKey(key), $"the store's ConfigMap has no {key}");
        }

        Assert.Contains(container.Env, e => e.Name == "OUTPOST_STORE_SECRET" && e.ValueFrom.SecretKeyRef.Name == "outpost-store-credentials");
        Assert.Equal("ReadWriteOnce", Assert.Single(Manifests.Named<V1PersistentVolumeClaim>(objects, "outpost-store-data").Spec.AccessModes));
        Assert.Equal("LoadBalancer", Manifests.Named<V1Service>(objects, "outpost-store").Spec.Type);
    }

    [Fact]
    public async Task Hq_runs_two_replicas_rolling_one_at_a_time_with_a_disruption_budget_and_postgres_from_a_secret()
    {
        var objects = Manifests.Load(await Shell.KustomizeAsync(Manifests.Directory("trial")));
        var central = Manifests.Named<V1Deployment>(objects, "outpost-central");

        Assert.Equal(2, central.Spec.Replicas);
        Assert.Equal("RollingUpdate", central.Spec.Strategy.Type);
        Assert.Equal("0", central.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        var pdb = Manifests.Named<V1PodDisruptionBudget>(objects, "outpost-central");
        Assert.Equal("1", pdb.Spec.MinAvailable.Value);
        Assert.Equal(central.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels);
        var container = Assert.Single(central.Spec.Template.Spec.Containers);
        Assert.Contains("postgres", container.Args);
        Assert.Contains(container.Env, e => e.Name == "OUTPOST_POSTGRES" && e.ValueFrom.SecretKeyRef.Name == "outpost-central-secrets");
        var postgres = Manifests.Named<V1StatefulSet>(objects, "outpost-postgres");
        Assert.Equal("outpost-postgres", postgres.Spec.ServiceName);
        Assert.Equal("data", Assert.Single(postgres.Spec.VolumeClaimTemplates).Metadata.Name);
        Assert.All(objects, o => Assert.True(o is V1Namespace || ((IMetadata<V1ObjectMeta>)o).Metadata.NamespaceProperty == "outpost-hq",
            $"{o.Kind} is not in the trial's namespace"));
    }

    [Fact]
    public async Task The_store_agent_may_do_what_its_kubernetes_runtime_does_and_reaches_the_store_through_its_service()
    {
        var objects = Manifests.Load(await Shell.KustomizeAsync(Manifests.Directory("store-agent")));
        var agent = Manifests.Named<V1Deployment>(objects, "outpost-agent");
        var spec = agent.Spec.Template.Spec;
        Assert.Equal("outpost-agent", spec.ServiceAccountName);
        Assert.Contains(objects, o => o is V1ServiceAccount a && a.Metadata.Name == "outpost-agent");
        var container = Assert.Single(spec.Containers);
        var args = container.Args.ToList();
        Assert.Equal("kubernetes", args[args.IndexOf("--runtime") + 1]);

        // The store it talks to is the store base's Service, on its port.
        var store = Manifests.Load(await Shell.KustomizeAsync(Manifests.Directory("store")));
        var service = Manifests.Named<V1Service>(store, "outpost-store");
        Assert.Equal($"http://{service.Metadata.Name}:{service.Spec.Ports.Single().Port}/", args[args.IndexOf("--store") + 1]);
        Assert.Contains(store, o => o is V1Deployment d && d.Metadata.Name == "outpost-store" && d.Spec.Template.Spec.Containers.Any(c => c.Name == "store"));

        // Exactly the calls KubernetesRuntime makes (see FakeKubernetes): the store Deployment read and replaced, pods
        // listed, the pre-pull pod created, read and deleted, and the nodes listed.
        var role = Manifests.Named<V1Role>(objects, "outpost-agent");
        Assert.Contains(role.Rules, r => r.ApiGroups.SequenceEqual(["apps"]) && r.Resources.SequenceEqual(["deployments"])
            && r.ResourceNames.SequenceEqual(["outpost-store"]) && r.Verbs.Order().SequenceEqual(["get", "update"]));
        Assert.Contains(role.Rules, r => r.Resources.SequenceEqual(["pods"]) && r.Verbs.Order().SequenceEqual(["create", "delete", "get", "list"]));
        var nodes = Manifests.Named<V1ClusterRole>(objects, "outpost-agent-nodes");
        Assert.Equal(["list"], Assert.Single(nodes.Rules).Verbs);
        Assert.Equal("outpost-agent", Manifests.Named<V1RoleBinding>(objects, "outpost-agent").Subjects.Single().Name);
        Assert.Equal("outpost-agent", Manifests.Named<V1ClusterRoleBinding>(objects, "outpost-agent-nodes").Subjects.Single().Name);
    }

    private static IEnumerable<(string Name, IDictionary<string, string> Labels, V1PodSpec Spec, HashSet<string> ClaimTemplates)> Workloads(IEnumerable<IKubernetesObject> objects)
    {
        foreach (var o in objects)
        {
            switch (o)
            {
                case V1Deployment d:
                    Assert.Equal(d.Spec.Selector.MatchLabels.OrderBy(l => l.Key), d.Spec.Template.Metadata.Labels.Where(l => d.Spec.Selector.MatchLabels.ContainsKey(l.Key)).OrderBy(l => l.Key));
                    yield return (d.Metadata.Name, d.Spec.Template.Metadata.Labels, d.Spec.Template.Spec, []);
                    break;
                case V1StatefulSet s:
                    Assert.Equal(s.Spec.Selector.MatchLabels.OrderBy(l => l.Key), s.Spec.Template.Metadata.Labels.Where(l => s.Spec.Selector.MatchLabels.ContainsKey(l.Key)).OrderBy(l => l.Key));
                    yield return (s.Metadata.Name, s.Spec.Template.Metadata.Labels, s.Spec.Template.Spec, [.. (s.Spec.VolumeClaimTemplates ?? []).Select(v => v.Metadata.Name)]);
                    break;
            }
        }
    }
}
