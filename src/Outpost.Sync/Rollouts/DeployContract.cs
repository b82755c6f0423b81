using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Sync.Agent;

namespace Outpost.Sync.Rollouts;

// What the store server and its deploy agent say to each other (/api/deploy): one definition for both sides.

/// <summary>What the store holds of its rollout: the release HQ wants it to run (from its down feed), the time zone its maintenance window is in, and the agent's last report.</summary>
public sealed record DesiredResponse(DesiredReleaseV1? Desired, string TimeZone, DeploymentProgressedV1? LastReport);

/// <summary>
/// This store server process as its deploy agent watches it through a soak: the version answering, since when, whether
/// it is ready, its link to HQ (null when it runs without HQ), and the version of the store's data on disk (the log
/// file's schema version: a release that migrates the data raises it, and a version that knows only a lower one cannot
/// open it). Its requests and server errors are in its <c>/metrics</c>, where they were already counted.
/// <c>Ready</c> is what <c>/health/ready</c> says: false while the log's disk is full. <c>StorageProblem</c>: why the log's
/// last write was refused (its disk full), null while it writes. <c>DamagedRecords</c>: damaged records reads of the log
/// met since the process started; they are stepped over and reported, and do not make the store unready.
/// </summary>
public sealed record StoreHealthResponse(string Version, DateTimeOffset StartedAt, bool Ready, ConnectivityStatus? Link, int DataVersion, string? StorageProblem = null, long DamagedRecords = 0);

/// <summary>A step the deploy agent reports.</summary>
public sealed record ProgressRequest(string? RolloutId, string? Version, DeploymentStep? Step, string? Reason);

/// <summary>A release's settings for the store server to apply while it runs (<c>PUT /api/deploy/settings</c>).</summary>
public sealed record LiveSettingsRequest(string? Version, Dictionary<string, string>? Settings);

/// <summary>The release whose settings were applied live (null: none since the process started with its own), and the checkout rules in force by key.</summary>
public sealed record LiveSettingsResponse(string? Version, IReadOnlyDictionary<string, string> Settings);

/// <summary>Source-generated JSON for <c>/api/deploy</c> as the agent reads it (web defaults, enums as strings: as the store writes it).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(DesiredResponse))]
[JsonSerializable(typeof(StoreHealthResponse))]
[JsonSerializable(typeof(ProgressRequest))]
[JsonSerializable(typeof(LiveSettingsRequest))]
[JsonSerializable(typeof(LiveSettingsResponse))]
public sealed partial class DeployContractJsonContext : JsonSerializerContext;
