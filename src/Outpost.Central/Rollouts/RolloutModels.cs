using Outpost.Sync.Rollouts;

namespace Outpost.Central.Rollouts;

/// <summary>A wave as an admin plans it: named stores, a share of a region, or every store (exactly one of them).</summary>
/// <param name="Name">Shown on the fleet page, for example "canary".</param>
/// <param name="Stores">Named stores.</param>
/// <param name="Region">A region, with <paramref name="Percent"/> of its stores (all when not given).</param>
/// <param name="Percent">The share of the region, 1 to 100.</param>
/// <param name="All">Every registered store not in an earlier wave.</param>
public sealed record WaveBody(string? Name, List<string>? Stores, string? Region, int? Percent, bool All = false);

/// <summary>A rollout as an admin asks for it.</summary>
/// <param name="Release">The version of a recorded release.</param>
/// <param name="Waves">The waves, in order; each waits for the one before to be healthy for the soak time.</param>
/// <param name="SoakSeconds">How long a wave's stores must stay healthy before the next wave opens (default 300).</param>
/// <param name="HealthyPercent">The share of a wave's stores that must report healthy (default 100).</param>
/// <param name="WindowStart">The stores' maintenance window start, store-local HH:mm (with <paramref name="WindowEnd"/>).</param>
/// <param name="WindowEnd">The window's end.</param>
/// <param name="Force">Apply now, ignoring the maintenance window.</param>
public sealed record RolloutBody(string? Release, List<WaveBody>? Waves, int? SoakSeconds, int? HealthyPercent, string? WindowStart, string? WindowEnd, bool Force = false);

/// <summary>An admin's word on a rollout (halt, resume, abort).</summary>
public sealed record RolloutActionBody(string? Reason);

/// <summary>A wave with the stores it resolved to when the rollout started.</summary>
public sealed record PlannedWave(string Name, IReadOnlyList<string> Stores);

/// <summary>Version 1 of <c>RolloutStarted</c> (topic <c>audit</c>, key = rollout id).</summary>
public sealed record RolloutStartedV1(string RolloutId, string Version, string Image, IReadOnlyDictionary<string, string> Settings, IReadOnlyList<PlannedWave> Waves,
    int SoakSeconds, int HealthyPercent, MaintenanceWindow? Window, string StartedBy);

/// <summary>Version 1 of <c>WaveOpened</c>, <c>RolloutHalted</c>, <c>RolloutResumed</c>, <c>RolloutAborted</c>, <c>RolloutCompleted</c> (topic <c>audit</c>, key = rollout id).</summary>
public sealed record RolloutChangedV1(string RolloutId, int Wave, string? Reason, string By);

/// <summary>Where a rollout stands.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<RolloutStatus>))]
public enum RolloutStatus
{
    /// <summary>Waves open as their gates pass.</summary>
    Running,

    /// <summary>Stopped by a failed gate or an admin; resumable.</summary>
    Halted,

    /// <summary>Stopped for good by an admin: no further wave opens.</summary>
    Aborted,

    /// <summary>Every wave healthy.</summary>
    Completed,
}

/// <summary>A store's last step in a rollout.</summary>
public sealed record StoreProgress(string StoreId, DeploymentStep? Step, string? Reason, DateTimeOffset? At);

/// <summary>A wave's state: its stores and their steps.</summary>
public sealed record WaveView(string Name, bool Opened, int Healthy, int Failed, IReadOnlyList<StoreProgress> Stores);

/// <summary>A rollout's state, as the fleet page and the API show it.</summary>
public sealed record RolloutView(string RolloutId, string Version, string Image, RolloutStatus Status, string? Reason, int WavesOpened, int SoakSeconds, int HealthyPercent,
    MaintenanceWindow? Window, string StartedBy, IReadOnlyList<WaveView> Waves);
