using System.Globalization;
using Outpost.Sync.Agent;
using Outpost.Sync.Rollouts;

namespace Outpost.Deploy;

/// <summary>
/// Whether a store server the agent just started is healthy, checked once a second through the store's
/// <c>/api/deploy/health</c> and the runtime: it answers ready as a new process within
/// <see cref="DeployAgentOptions.StartLimit"/>; then, through <see cref="DeployAgentOptions.SoakTime"/>, it stays
/// ready (three misses in a row fail it) and does not crash-loop (<see cref="DeployAgentOptions.CrashLoopRestarts"/>);
/// it reaches HQ again within <see cref="DeployAgentOptions.SyncResumeLimit"/> when the version it replaced did
/// (a store whose link was down is not failed for it); and its share of server errors is not above the replaced
/// version's by more than <see cref="DeployAgentOptions.ErrorRateMargin"/>. Each check returns null when it passes,
/// or what failed, in words for the fleet page.
/// </summary>
internal sealed class SoakGate(DeployAgentOptions options, IStoreRuntime runtime, StoreLink store)
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    private const int MissesAllowed = 3;
    private const long ErrorRateMinimumRequests = 50;

    private DateTimeOffset Now => options.Time.GetUtcNow();

    private int _restartsBefore;

    /// <summary>The last health the store answered during a check (null before one answered).</summary>
    public StoreHealthResponse? LastSeen { get; private set; }

    private async Task<StoreHealthResponse?> HealthAsync(CancellationToken cancellationToken)
    {
        var health = await store.HealthAsync(cancellationToken);
        LastSeen = health ?? LastSeen;
        return health;
    }

    /// <summary>Waits until a store server process other than <paramref name="before"/>'s answers ready.</summary>
    public async Task<string?> ReadyAsync(StoreHealthResponse? before, CancellationToken cancellationToken)
    {
        LastSeen = null;
        _restartsBefore = before is null ? await runtime.RestartsAsync(cancellationToken) : 0;
        return (await StartedAsync(before, cancellationToken)).Problem;
    }

    /// <summary>The whole gate: started, then soaked, synced and no worse in errors than <paramref name="before"/>.</summary>
    public async Task<string?> SoakAsync(StoreHealthResponse? before, CancellationToken cancellationToken)
    {
        LastSeen = null;
        // After an apply the container is new (its restarts count from 0); without one (settings applied live), from now.
        _restartsBefore = before is null ? await runtime.RestartsAsync(cancellationToken) : 0;
        var (started, problem) = await StartedAsync(before, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var health = started!;
        var readyAt = Now;
        var misses = 0;
        while (Now - readyAt < options.SoakTime)
        {
            await Task.Delay(Every, options.Time, cancellationToken);
            var now = await HealthAsync(cancellationToken);
            misses = now is { Ready: true } ? 0 : misses + 1;
            if (misses >= MissesAllowed)
            {
                return $"readiness failing after {Seconds(Now - readyAt)} of the soak: {(now is null ? "the store server does not answer" : "it answers not ready")}";
            }

            if (await CrashLoopAsync(readyAt, cancellationToken) is { } crashes)
            {
                return crashes;
            }

            health = now ?? health;
        }

        // Sync: only when the version replaced had its link, or a store cut off from HQ could never pass.
        if (before?.Link is { State: ConnectivityState.Online } && health.Link is not null)
        {
            while (health.Link?.LastDownSuccess is null || health.Link.LastUpSuccess is null)
            {
                if (Now - readyAt >= options.SyncResumeLimit)
                {
                    return $"sync not resumed within {Seconds(options.SyncResumeLimit)} of starting: {health.Link?.LastError ?? "HQ not reached yet"}";
                }

                await Task.Delay(Every, options.Time, cancellationToken);
                health = await HealthAsync(cancellationToken) ?? health;
            }
        }

        if (health.Requests >= ErrorRateMinimumRequests)
        {
            var rate = (decimal)health.ServerErrors / health.Requests;
            var old = before is { Requests: > 0 } ? (decimal)before.ServerErrors / before.Requests : 0m;
            if (rate > old + options.ErrorRateMargin)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"server errors on {rate:P1} of {health.Requests} requests, against {old:P1} for the version replaced");
            }
        }

        return null;
    }

    private async Task<(StoreHealthResponse? Health, string? Problem)> StartedAsync(StoreHealthResponse? before, CancellationToken cancellationToken)
    {
        var since = Now;
        var last = "the store server does not answer";
        while (true)
        {
            var health = await HealthAsync(cancellationToken);
            var replaced = health is not null && (before is null || health.StartedAt != before.StartedAt);
            if (health is { Ready: true } && replaced)
            {
                return (health, null);
            }

            if (await CrashLoopAsync(since, cancellationToken) is { } crashes)
            {
                return (null, crashes);
            }

            last = health is null ? "the store server does not answer" : !replaced ? "the old store server still answers" : "it answers not ready";
            if (Now - since >= options.StartLimit)
            {
                return (null, $"not ready within {Seconds(options.StartLimit)}: {last}");
            }

            await Task.Delay(Every, options.Time, cancellationToken);
        }
    }

    private async Task<string?> CrashLoopAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var restarts = await runtime.RestartsAsync(cancellationToken) - _restartsBefore;
        return restarts >= options.CrashLoopRestarts
            ? $"crash loop: the store server restarted {restarts} times in {Seconds(Now - since)}"
            : null;
    }

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s");
}
