using Outpost.Central.Admin;
using Outpost.Central.MasterData;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Rollouts;

namespace Outpost.Central.Rollouts;

/// <summary>
/// Every rollout's state, read from HQ's log: what admins and the conductor decided (<c>audit</c> topic) and what each
/// store's agent reported (<see cref="RolloutEvents.ProgressTopic"/>, accepted by HQ only from the store itself).
/// Derived, never stored, so it is exactly what the log says on every HQ node.
/// </summary>
public static class RolloutBook
{
    public const string Started = "RolloutStarted";
    public const string WaveOpened = "WaveOpened";
    public const string Halted = "RolloutHalted";
    public const string Resumed = "RolloutResumed";
    public const string Aborted = "RolloutAborted";
    public const string Completed = "RolloutCompleted";

    private static readonly ReadFilter Changes = new() { Topics = [AuditTrail.AuditTopic], Types = [Started, WaveOpened, Halted, Resumed, Aborted, Completed] };
    private static readonly ReadFilter Progress = new() { Topics = [RolloutEvents.ProgressTopic], Types = [RolloutEvents.DeploymentProgressed] };

    /// <summary>Every rollout, oldest first.</summary>
    public static async Task<IReadOnlyList<RolloutState>> ReadAsync(IEventLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var rollouts = new Dictionary<string, RolloutState>(StringComparer.Ordinal);
        foreach (var e in await log.ReadAllAsync(Changes, cancellationToken: cancellationToken))
        {
            if (e.Type == Started)
            {
                var started = e.Deserialize(AdminJsonContext.Default.RolloutStartedV1);
                rollouts[started.RolloutId] = new RolloutState(started);
            }
            else if (rollouts.TryGetValue(e.Key, out var rollout))
            {
                rollout.Apply(e.Type, e.Deserialize(AdminJsonContext.Default.RolloutChangedV1), e.Seq);
            }
        }

        foreach (var e in await log.ReadAllAsync(Progress, cancellationToken: cancellationToken))
        {
            var progress = e.Deserialize(RolloutJsonContext.Default.DeploymentProgressedV1);
            if (rollouts.TryGetValue(progress.RolloutId, out var rollout))
            {
                rollout.Report(e.Origin.Node.Value, progress, e.Seq, e.Origin.Timestamp.PhysicalTime);
            }
        }

        return [.. rollouts.Values];
    }
}

/// <summary>One rollout as its events make it.</summary>
public sealed class RolloutState(RolloutStartedV1 started)
{
    private readonly Dictionary<string, (DeploymentProgressedV1 Progress, long Seq, DateTimeOffset At)> _latest = new(StringComparer.Ordinal);
    private long _resumedAt;

    public RolloutStartedV1 Started { get; } = started;

    public RolloutStatus Status { get; private set; } = RolloutStatus.Running;

    public string? Reason { get; private set; }

    public int WavesOpened { get; private set; }

    internal void Apply(string type, RolloutChangedV1 change, long seq)
    {
        switch (type)
        {
            case RolloutBook.WaveOpened:
                WavesOpened = Math.Max(WavesOpened, change.Wave + 1);
                break;
            case RolloutBook.Halted when Status == RolloutStatus.Running:
                (Status, Reason) = (RolloutStatus.Halted, change.Reason);
                break;
            case RolloutBook.Resumed when Status == RolloutStatus.Halted:
                (Status, Reason, _resumedAt) = (RolloutStatus.Running, null, seq);
                break;
            case RolloutBook.Aborted when Status is RolloutStatus.Running or RolloutStatus.Halted:
                (Status, Reason) = (RolloutStatus.Aborted, change.Reason);
                break;
            case RolloutBook.Completed when Status == RolloutStatus.Running:
                Status = RolloutStatus.Completed;
                break;
        }
    }

    internal void Report(string storeId, DeploymentProgressedV1 progress, long seq, DateTimeOffset at)
    {
        if (Started.Waves.Take(Math.Max(WavesOpened, 1)).Any(w => w.Stores.Contains(storeId, StringComparer.Ordinal)))
        {
            _latest[storeId] = (progress, seq, at);
        }
    }

    /// <summary>The first store of the open waves whose agent failed or rolled back since the rollout last resumed, with its reason.</summary>
    public (string StoreId, DeploymentStep Step, string? Reason)? Failure
    {
        get
        {
            var failed = _latest.Where(s => s.Value.Progress.Step is DeploymentStep.Failed or DeploymentStep.RolledBack && s.Value.Seq > _resumedAt)
                .OrderBy(s => s.Value.Seq).ToList();
            return failed.Count == 0 ? null : (failed[0].Key, failed[0].Value.Progress.Step, failed[0].Value.Progress.Reason);
        }
    }

    /// <summary>
    /// When the open wave passed its health gate (enough of its stores healthy): the time the last of those needed
    /// reported healthy; null while it has not.
    /// </summary>
    public DateTimeOffset? CurrentWaveHealthySince()
    {
        if (WavesOpened == 0)
        {
            return null;
        }

        var wave = Started.Waves[WavesOpened - 1];
        var needed = (int)Math.Ceiling(wave.Stores.Count * Started.HealthyPercent / 100.0);
        var healthy = wave.Stores.Select(s => _latest.TryGetValue(s, out var p) && p.Progress.Step == DeploymentStep.Healthy ? p.At : (DateTimeOffset?)null)
            .Where(t => t is not null).Select(t => t!.Value).Order().ToList();
        return healthy.Count >= needed && needed > 0 ? healthy[needed - 1] : null;
    }

    /// <summary>The state for the API and the fleet page.</summary>
    public RolloutView View() => new(Started.RolloutId, Started.Version, Started.Image, Status, Reason, WavesOpened, Started.SoakSeconds, Started.HealthyPercent, Started.Window,
        Started.StartedBy,
        [.. Started.Waves.Select((w, i) =>
        {
            var stores = w.Stores.Select(s => _latest.TryGetValue(s, out var p) ? new StoreProgress(s, p.Progress.Step, p.Progress.Reason, p.At) : new StoreProgress(s, null, null, null)).ToList();
            return new WaveView(w.Name, i < WavesOpened, stores.Count(s => s.Step == DeploymentStep.Healthy),
                stores.Count(s => s.Step is DeploymentStep.Failed or DeploymentStep.RolledBack), stores);
        })]);
}
