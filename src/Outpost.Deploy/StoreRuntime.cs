namespace Outpost.Deploy;

/// <summary>A release as it runs at a store: the version, the image pinned by digest, and the settings it runs with.</summary>
/// <param name="Version">The release's version.</param>
/// <param name="Image">The image, registry/repository@sha256:&lt;digest&gt;.</param>
/// <param name="Settings">Store settings by configuration key (<c>Retail:Checkout:OfflineFloorLimit</c>).</param>
public sealed record RunningRelease(string Version, string Image, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Whether <paramref name="other"/> runs the same image with the same settings.</summary>
    public bool SameAs(RunningRelease other) =>
        Image == other.Image && Settings.Count == other.Settings.Count && Settings.All(s => other.Settings.TryGetValue(s.Key, out var v) && v == s.Value);
}

/// <summary>What a runtime could not do, in words for the fleet page.</summary>
public sealed class RuntimeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Where the store server runs, as the deploy agent drives it: the image store (pull by digest), the store's workload
/// (apply a release, read what runs), and how often the store's container has restarted. Two adapters:
/// <see cref="PodmanRuntime"/> (<c>podman kube play --replace</c> of the store's manifest) and
/// a Kubernetes runtime (the store's Deployment through the cluster's API server).
/// </summary>
public interface IStoreRuntime
{
    /// <summary>The runtime's name, for messages.</summary>
    string Name { get; }

    /// <summary>Whether the image is already in the local image store (nothing to download).</summary>
    Task<bool> HasImageAsync(string image, CancellationToken cancellationToken);

    /// <summary>Pulls the image by its digest (layers already present are not pulled again) and checks the digest.</summary>
    Task PullAsync(string image, CancellationToken cancellationToken);

    /// <summary>Makes the store server run <paramref name="release"/>, replacing what runs now; returns once it was started (not once healthy).</summary>
    Task ApplyAsync(RunningRelease release, CancellationToken cancellationToken);

    /// <summary>The image and settings the store's workload is declared with now.</summary>
    Task<RunningRelease> CurrentAsync(CancellationToken cancellationToken);

    /// <summary>How many times the store server's container has restarted since it was last applied.</summary>
    Task<int> RestartsAsync(CancellationToken cancellationToken);
}
