using Outpost.Central.Admin;
using Outpost.Central.MasterData;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Rollouts;

namespace Outpost.Central.Rollouts;

/// <summary>
/// Moves running rollouts along, every <see cref="CentralOptions.RolloutInterval"/>: opens the first wave (the desired
/// release goes down to each of its stores, in one append with the <c>WaveOpened</c> record), halts a rollout whose
/// open waves hold a store that failed or rolled back (the gate), and opens the next wave once enough of the current
/// one's stores have been healthy for the soak time, or completes the rollout after the last.
/// Every decision is an event, so each HQ node may run a conductor: two deciding the same step write the same thing.
/// </summary>
public sealed partial class RolloutConductor(IEventLog log, TimeProvider time, CentralOptions options, ILogger<RolloutConductor> logger) : BackgroundService
{
    /// <summary>One pass over the running rollouts; returns how many decisions it recorded.</summary>
    public async Task<int> StepAsync(CancellationToken cancellationToken)
    {
        var decisions = 0;
        foreach (var rollout in (await RolloutBook.ReadAsync(log, cancellationToken)).Where(r => r.Status == RolloutStatus.Running))
        {
            var started = rollout.Started;
            if (rollout.WavesOpened == 0)
            {
                await OpenWaveAsync(started, 0, cancellationToken);
            }
            else if (rollout.Failure is { } failure)
            {
                var reason = $"{failure.StoreId} {(failure.Step == DeploymentStep.RolledBack ? "rolled back" : "failed")}: {failure.Reason ?? "no reason given"}";
                await ChangeAsync(RolloutBook.Halted, started.RolloutId, rollout.WavesOpened - 1, reason, "gate", cancellationToken);
            }
            else if (rollout.CurrentWaveHealthySince() is { } since && time.GetUtcNow() - since >= TimeSpan.FromSeconds(started.SoakSeconds))
            {
                if (rollout.WavesOpened == started.Waves.Count)
                {
                    await ChangeAsync(RolloutBook.Completed, started.RolloutId, rollout.WavesOpened - 1, null, "gate", cancellationToken);
                }
                else
                {
                    await OpenWaveAsync(started, rollout.WavesOpened, cancellationToken);
                }
            }
            else
            {
                continue;
            }

            decisions++;
        }

        return decisions;
    }

    /// <summary>Records a change of a rollout (by an admin or the gate).</summary>
    public Task ChangeAsync(string type, string rolloutId, int wave, string? reason, string by, CancellationToken cancellationToken) =>
        log.AppendAsync(Change(type, new RolloutChangedV1(rolloutId, wave, reason, by)), cancellationToken).AsTask();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.RolloutInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await StepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogStepFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task OpenWaveAsync(RolloutStartedV1 started, int index, CancellationToken cancellationToken)
    {
        var wave = started.Waves[index];
        var desired = new DesiredReleaseV1(started.RolloutId, started.Version, started.Image, started.Settings, wave.Name, started.Window);
        List<NewEvent> events = [Change(RolloutBook.WaveOpened, new RolloutChangedV1(started.RolloutId, index, wave.Name, "gate"))];
        events.AddRange(wave.Stores.Select(store => new NewEvent
        {
            Topic = RolloutEvents.DeployTopic,
            Type = RolloutEvents.DesiredRelease,
            Key = store,
            Scope = Scope.Store(store),
            Payload = NewEvent.Json(desired, RolloutJsonContext.Default.DesiredReleaseV1),
            CorrelationId = "rollout:" + started.RolloutId,
        }));
        await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
    }

    private static NewEvent Change(string type, RolloutChangedV1 change) => new()
    {
        Topic = AuditTrail.AuditTopic,
        Type = type,
        Key = change.RolloutId,
        Payload = NewEvent.Json(change, AdminJsonContext.Default.RolloutChangedV1),
        CorrelationId = "admin:" + change.By,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A rollout step failed; the next tick tries again")]
    private static partial void LogStepFailed(ILogger logger, Exception exception);
}
