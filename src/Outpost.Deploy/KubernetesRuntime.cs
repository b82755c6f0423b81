using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Outpost.Deploy;

/// <summary>
/// The store server on a cluster (k3s at the store), through the cluster's API server with the agent's service account:
/// what <c>kubectl apply</c> and <c>kubectl rollout status</c> do, done by the Kubernetes client library so that the
/// agent's image needs no kubectl. A release replaces the store Deployment's image, release settings and version
/// annotation (one PUT, guarded by the resource version read); the rollout is then followed as <c>rollout status</c>
/// follows it (the controller has seen the generation, every replica updated and available) until
/// <see cref="RolloutLimit"/>. The image is pulled ahead of the window by a short-lived pod that runs it with
/// <c>--version</c> (the kubelet pulls it into the node's image store), as clusters pre-pull.
/// </summary>
public sealed class KubernetesRuntime(IKubernetes client, string @namespace, string deployment = "outpost-store", string container = "store") : IStoreRuntime
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    /// <summary>How long a rollout or a pre-pull may take.</summary>
    public TimeSpan RolloutLimit { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock (injected so that tests and simulations control it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <inheritdoc/>
    public string Name => "kubernetes";

    /// <inheritdoc/>
    public async Task<bool> HasImageAsync(string image, CancellationToken cancellationToken)
    {
        var nodes = await CallAsync(() => client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken), "list the nodes");
        return nodes.Items.Count > 0 && nodes.Items.All(n => n.Status?.Images?.Any(i => i.Names?.Contains(image) == true) == true);
    }

    /// <inheritdoc/>
    public async Task PullAsync(string image, CancellationToken cancellationToken)
    {
        var name = "outpost-prepull-" + image.Split('@')[^1].Replace("sha256:", "", StringComparison.Ordinal)[..12];
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app.kubernetes.io/component"] = "prepull" } },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                Containers = [new V1Container { Name = "pull", Image = image, ImagePullPolicy = "IfNotPresent", Args = ["--version"] }],
            },
        };
        await DeletePodAsync(name, cancellationToken);
        await CallAsync(() => client.CoreV1.CreateNamespacedPodAsync(pod, @namespace, cancellationToken: cancellationToken), $"create the pre-pull pod {name}");
        try
        {
            var since = Time.GetUtcNow();
            while (true)
            {
                var seen = await CallAsync(() => client.CoreV1.ReadNamespacedPodAsync(name, @namespace, cancellationToken: cancellationToken), $"read the pre-pull pod {name}");
                var waiting = seen.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting;
                if (seen.Status?.Phase is "Succeeded" or "Running" || seen.Status?.ContainerStatuses?.FirstOrDefault()?.ImageID is { Length: > 0 })
                {
                    return; // the image is on the node
                }

                if (seen.Status?.Phase == "Failed" || waiting?.Reason is "ErrImagePull" or "ImagePullBackOff" or "InvalidImageName")
                {
                    throw new RuntimeException($"the cluster could not pull {image}: {waiting?.Reason} {waiting?.Message}".TrimEnd());
                }

                if (Time.GetUtcNow() - since >= RolloutLimit)
                {
                    throw new RuntimeException($"the cluster did not pull {image} within {RolloutLimit.TotalSeconds:0} s");
                }

                await Task.Delay(Every, Time, cancellationToken);
            }
        }
        finally
        {
            await DeletePodAsync(name, CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    public async Task ApplyAsync(RunningRelease release, CancellationToken cancellationToken)
    {
        var current = await ReadAsync(cancellationToken);
        var store = StoreContainer(current);
        ReleaseManifest.Write(current.Metadata, store, release);
        var replaced = await CallAsync(() => client.AppsV1.ReplaceNamespacedDeploymentAsync(current, deployment, @namespace, cancellationToken: cancellationToken),
            $"replace the Deployment {deployment}");
        await RolloutStatusAsync(replaced.Metadata.Generation ?? 0, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<RunningRelease> CurrentAsync(CancellationToken cancellationToken)
    {
        var current = await ReadAsync(cancellationToken);
        return ReleaseManifest.Read(current.Metadata, StoreContainer(current));
    }

    /// <inheritdoc/>
    public async Task<int> RestartsAsync(CancellationToken cancellationToken)
    {
        var current = await ReadAsync(cancellationToken);
        var selector = string.Join(",", (current.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()).Select(l => $"{l.Key}={l.Value}"));
        var pods = await CallAsync(() => client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: selector, cancellationToken: cancellationToken), "list the store's pods");
        return pods.Items.Where(p => p.Metadata.DeletionTimestamp is null)
            .SelectMany(p => p.Status?.ContainerStatuses ?? [])
            .Where(s => s.Name == container)
            .Sum(s => s.RestartCount);
    }

    // kubectl rollout status: the controller has observed the new generation, and every replica is updated and available.
    private async Task RolloutStatusAsync(long generation, CancellationToken cancellationToken)
    {
        var since = Time.GetUtcNow();
        while (true)
        {
            var seen = await ReadAsync(cancellationToken);
            var status = seen.Status;
            var wanted = seen.Spec.Replicas ?? 1;
            if (status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing") is { Reason: "ProgressDeadlineExceeded" } stalled)
            {
                throw new RuntimeException($"the rollout of {deployment} stalled: {stalled.Message}");
            }

            if (status is not null && status.ObservedGeneration >= generation && status.UpdatedReplicas == wanted && status.AvailableReplicas == wanted
                && (status.Replicas ?? 0) == wanted)
            {
                return;
            }

            if (Time.GetUtcNow() - since >= RolloutLimit)
            {
                throw new RuntimeException($"the rollout of {deployment} did not finish within {RolloutLimit.TotalSeconds:0} s " +
                    $"({status?.UpdatedReplicas ?? 0} of {wanted} updated, {status?.AvailableReplicas ?? 0} available)");
            }

            await Task.Delay(Every, Time, cancellationToken);
        }
    }

    private Task<V1Deployment> ReadAsync(CancellationToken cancellationToken) =>
        CallAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync(deployment, @namespace, cancellationToken: cancellationToken), $"read the Deployment {deployment}");

    private V1Container StoreContainer(V1Deployment current) =>
        current.Spec?.Template?.Spec?.Containers?.FirstOrDefault(c => c.Name == container)
        ?? throw new RuntimeException($"the Deployment {@namespace}/{deployment} has no container named '{container}'");

    private async Task DeletePodAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(name, @namespace, gracePeriodSeconds: 0, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException ex)
        {
            throw new RuntimeException($"the cluster's API server refused to {what}: {(int)ex.Response.StatusCode} {ex.Response.Content}".TrimEnd(), ex);
        }
        catch (HttpRequestException ex)
        {
            throw new RuntimeException($"the cluster's API server cannot be reached to {what}: {ex.Message}", ex);
        }
    }
}
