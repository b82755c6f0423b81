using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Outpost.Deploy.Tests;

/// <summary>
/// A Kubernetes API server for the agent's Kubernetes runtime, on a free loopback port, faithful to the calls that runtime
/// makes (paths, verbs, JSON, resource versions, 404 and 409 as the real one gives them) and with a deployment controller
/// and kubelet of its own: a replaced Deployment is rolled out at once (its status caught up with its generation)
/// unless <see cref="Stall"/> is set; a pre-pull pod pulls its image if the "registry" (<see cref="Registry"/>) holds it,
/// otherwise it waits with ErrImagePull; the store pod's restart count is <see cref="Restarts"/>.
/// Every request is kept in <see cref="Requests"/> ("VERB path").
/// </summary>
public sealed class FakeKubernetes : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private V1Deployment _deployment;
    private readonly List<string> _nodeImages = [];

    private FakeKubernetes(WebApplication app, V1Deployment deployment)
    {
        _app = app;
        _deployment = deployment;
    }

    public const string Namespace = "store";

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Images the cluster can pull.</summary>
    public HashSet<string> Registry { get; } = new(StringComparer.Ordinal);

    /// <summary>Restarts of the store container in the store pod.</summary>
    public int Restarts { get; set; }

    /// <summary>When set, a replaced Deployment never becomes available and its Progressing condition says the deadline passed.</summary>
    public bool Stall { get; set; }

    public string Address => _app.Urls.First();

    /// <summary>The Deployment as the API server holds it now.</summary>
    public V1Deployment Deployment
    {
        get
        {
            lock (_gate)
            {
                return KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(_deployment));
            }
        }
    }

    public IKubernetes Client() => new Kubernetes(new KubernetesClientConfiguration { Host = Address });

    public static async Task<FakeKubernetes> StartAsync(V1Deployment deployment)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        deployment.Metadata.ResourceVersion = "1";
        deployment.Metadata.Generation = 1;
        deployment.Status = Available(1, deployment.Spec.Replicas ?? 1);
        var fake = new FakeKubernetes(app, deployment);
        app.Use(async (context, next) =>
        {
            fake.Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            await next(context);
        });
        var deploymentPath = $"/apis/apps/v1/namespaces/{Namespace}/deployments/{deployment.Metadata.Name}";
        app.MapGet(deploymentPath, () => Json(fake.Deployment));
        app.MapPut(deploymentPath, async (HttpRequest request) => fake.Replace(await ReadAsync<V1Deployment>(request)));
        app.MapGet($"/api/v1/namespaces/{Namespace}/pods", (string? labelSelector) => Json(fake.StorePods(labelSelector)));
        app.MapPost($"/api/v1/namespaces/{Namespace}/pods", async (HttpRequest request) => fake.CreatePod(await ReadAsync<V1Pod>(request)));
        app.MapGet($"/api/v1/namespaces/{Namespace}/pods/{{name}}", (string name) => fake._pods.TryGetValue(name, out var pod) ? Json(fake.Kubelet(pod)) : NotFound("pods", name));
        app.MapDelete($"/api/v1/namespaces/{Namespace}/pods/{{name}}", (string name) => fake._pods.TryRemove(name, out var pod) ? Json(pod) : NotFound("pods", name));
        app.MapGet("/api/v1/nodes", () => Json(fake.Nodes()));
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private IResult Replace(V1Deployment replacement)
    {
        lock (_gate)
        {
            if (replacement.Metadata.ResourceVersion != _deployment.Metadata.ResourceVersion)
            {
                return Status(409, "Conflict", $"Operation cannot be fulfilled on deployments.apps \"{_deployment.Metadata.Name}\": the object has been modified; please apply your changes to the latest version and try again");
            }

            var generation = (_deployment.Metadata.Generation ?? 1) + 1;
            replacement.Metadata.Generation = generation;
            replacement.Metadata.ResourceVersion = (long.Parse(_deployment.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) + 1)
                .ToString(System.Globalization.CultureInfo.InvariantCulture);
            var replicas = replacement.Spec.Replicas ?? 1;
            replacement.Status = Stall
                ? new V1DeploymentStatus
                {
                    ObservedGeneration = generation, Replicas = replicas, UpdatedReplicas = replicas, AvailableReplicas = 0,
                    Conditions = [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", Message = "ReplicaSet \"outpost-store-2\" has timed out progressing." }],
                }
                : Available(generation, replicas);
            Restarts = 0; // a new pod
            _deployment = replacement;
            return Json(Deployment);
        }
    }

    private V1PodList StorePods(string? selector)
    {
        var labels = Deployment.Spec.Selector.MatchLabels;
        var wanted = string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"));
        if (selector != wanted)
        {
            return new V1PodList { Items = [] };
        }

        var store = Deployment.Spec.Template.Spec.Containers.Single(c => c.Name == "store");
        return new V1PodList
        {
            Items =
            [
                new V1Pod
                {
                    Metadata = new V1ObjectMeta { Name = "outpost-store-1", Labels = labels },
                    Status = new V1PodStatus { Phase = "Running", ContainerStatuses = [new V1ContainerStatus { Name = "store", Image = store.Image, RestartCount = Restarts, Ready = true }] },
                },
            ],
        };
    }

    private IResult CreatePod(V1Pod pod)
    {
        if (!_pods.TryAdd(pod.Metadata.Name, pod))
        {
            return Status(409, "AlreadyExists", $"pods \"{pod.Metadata.Name}\" already exists");
        }

        pod.Status = new V1PodStatus { Phase = "Pending" };
        return Json(pod);
    }

    // The kubelet: a pod's image is pulled if the registry holds it; then it runs (--version) and succeeds.
    private V1Pod Kubelet(V1Pod pod)
    {
        var image = pod.Spec.Containers[0].Image;
        if (Registry.Contains(image))
        {
            lock (_gate)
            {
                if (!_nodeImages.Contains(image))
                {
                    _nodeImages.Add(image);
                }
            }

            pod.Status = new V1PodStatus { Phase = "Succeeded", ContainerStatuses = [new V1ContainerStatus { Name = "pull", Image = image, ImageID = image }] };
        }
        else
        {
            pod.Status = new V1PodStatus
            {
                Phase = "Pending",
                ContainerStatuses = [new V1ContainerStatus { Name = "pull", Image = image, State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ErrImagePull", Message = $"failed to pull image \"{image}\": not found" } } }],
            };
        }

        return pod;
    }

    private V1NodeList Nodes()
    {
        lock (_gate)
        {
            return new V1NodeList
            {
                Items = [new V1Node { Metadata = new V1ObjectMeta { Name = "store-node" }, Status = new V1NodeStatus { Images = [.. _nodeImages.Select(i => new V1ContainerImage { Names = [i] })] } }],
            };
        }
    }

    private static V1DeploymentStatus Available(long generation, int replicas) => new()
    {
        ObservedGeneration = generation, Replicas = replicas, UpdatedReplicas = replicas, ReadyReplicas = replicas, AvailableReplicas = replicas,
    };

    private static async Task<T> ReadAsync<T>(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        return KubernetesJson.Deserialize<T>(await reader.ReadToEndAsync());
    }

    private static IResult Json(object value) => Results.Text(KubernetesJson.Serialize(value), "application/json");

    private static IResult NotFound(string kind, string name) => Status(404, "NotFound", $"{kind} \"{name}\" not found");

    private static IResult Status(int code, string reason, string message) =>
        Results.Json(new { kind = "Status", apiVersion = "v1", status = "Failure", message, reason, code }, statusCode: code); // (V1Status has no writer in the client library)
}
