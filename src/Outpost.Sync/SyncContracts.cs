using Outpost.Core.Contracts;
using Outpost.Sync.Agent;
using Outpost.Sync.Protocol;
using Outpost.Sync.Rollouts;

namespace Outpost.Sync;

/// <summary>The contracts of the events replication and rollouts write: the release a store should run, its agent's steps, the link's state.</summary>
public static class SyncContracts
{
    /// <summary>Every contract of this assembly.</summary>
    public static IReadOnlyList<EventContract> All { get; } =
    [
        EventContract.FromRecord(RolloutEvents.DeployTopic, RolloutEvents.DesiredRelease, 1, RolloutJsonContext.Default.DesiredReleaseV1),
        EventContract.FromRecord(RolloutEvents.ProgressTopic, RolloutEvents.DeploymentProgressed, 1, RolloutJsonContext.Default.DeploymentProgressedV1),
        EventContract.FromRecord(ReplicationAgent.ConnectivityTopic, ReplicationAgent.ConnectivityChanged, 1, SyncJsonContext.Default.ConnectivityStatus),
        EventContract.FromRecord(ReplicationAgent.ConnectivityTopic, ReplicationAgent.RecordNotSent, 1, SyncJsonContext.Default.RecordNotSent),
    ];
}
