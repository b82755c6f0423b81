using System.Text.Json.Serialization;

namespace Outpost.Sync.Rollouts;

/// <summary>
/// The events of rollouts that travel between HQ and a store: what HQ wants a store to run comes down the feed like a
/// price (<see cref="DeployTopic"/>, one per store, compacted by store), and every step the store's agent takes goes up
/// like telemetry (<see cref="ProgressTopic"/>).
/// </summary>
public static class RolloutEvents
{
    /// <summary>Down topic: the release each store should run (key = store id, scope = that store).</summary>
    public const string DeployTopic = "deploy";

    /// <summary>Up topic: what each store's agent did about it.</summary>
    public const string ProgressTopic = "deploy.progress";

    /// <summary>Type of <see cref="DesiredReleaseV1"/>.</summary>
    public const string DesiredRelease = "DesiredRelease";

    /// <summary>Type of <see cref="DeploymentProgressedV1"/>.</summary>
    public const string DeploymentProgressed = "DeploymentProgressed";
}

/// <summary>A step of a store's deployment, as its agent reports it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeploymentStep>))]
public enum DeploymentStep
{
    /// <summary>Desired, and waiting for the store's maintenance window.</summary>
    WaitingForWindow,

    /// <summary>Pulling the image.</summary>
    Downloading,

    /// <summary>Starting the new version and watching it for the soak time.</summary>
    Starting,

    /// <summary>Running the release, healthy through the soak time.</summary>
    Healthy,

    /// <summary>The release could not be applied (the reason says why); the previous one still runs.</summary>
    Failed,

    /// <summary>The release started but was unhealthy; the agent restored the previous one by itself.</summary>
    RolledBack,
}

/// <summary>A store's maintenance window in store-local time (<c>02:00</c>–<c>05:00</c>; an end before the start spans midnight).</summary>
public sealed record MaintenanceWindow(TimeOnly Start, TimeOnly End)
{
    /// <summary>Whether <paramref name="local"/> (store-local time of day) falls in the window.</summary>
    public bool Contains(TimeOnly local) => Start <= End ? local >= Start && local < End : local >= Start || local < End;
}

/// <summary>Version 1 of <c>DesiredRelease</c>: the release a store should converge on, whatever it runs now.</summary>
/// <param name="RolloutId">The rollout that made it desired.</param>
/// <param name="Version">The release's version.</param>
/// <param name="Image">The image, pinned by digest.</param>
/// <param name="Settings">The store settings it runs with, by configuration key.</param>
/// <param name="Wave">The wave of the rollout the store is in.</param>
/// <param name="Window">When the store may apply it (store-local time); null: at once.</param>
public sealed record DesiredReleaseV1(string RolloutId, string Version, string Image, IReadOnlyDictionary<string, string> Settings, string Wave, MaintenanceWindow? Window);

/// <summary>Version 1 of <c>DeploymentProgressed</c>: one step of a store's agent on a rollout.</summary>
public sealed record DeploymentProgressedV1(string RolloutId, string Version, DeploymentStep Step, string? Reason);

/// <summary>Source-generated JSON for the rollout events.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DesiredReleaseV1))]
[JsonSerializable(typeof(DeploymentProgressedV1))]
public sealed partial class RolloutJsonContext : JsonSerializerContext;
