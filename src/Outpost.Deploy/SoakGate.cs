using System.Globalization;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;
using Outpost.Sync.Rollouts;

namespace Outpost.Deploy;

/// <summary>The store server as the agent saw it before a change: its health and its metrics (null: it did not answer).</summary>
internal sealed record StoreBefore(StoreHealthResponse? Health, ServerMetrics? Metrics);

/// <summary>A soak's outcome: what failed (null: healthy), and the last health the store answered during it.</summary>
internal sealed record SoakVerdict(string? Problem, StoreHealthResponse? Last);

/// <summary>
/// Whether a store server the agent just changed is healthy, checked once a second through the store's
/// <c>/api/deploy/health</c> and the runtime: it answers ready within <see cref="DeployAgentOptions.StartLimit"/> (as a
/// new process, when the change replaced it); then, through <see cref="DeployAgentOptions.SoakTime"/>, it stays ready
/// (three misses in a row fail it) and does not crash-loop (<see cref="DeployAgentOptions.CrashLoopRestarts"/> restarts
/// of its container: the new container's, or since the check began when it was changed in place); it reaches HQ again within <see cref="DeployAgentOptions.SyncResumeLimit"/>
/// when the version it replaced did (a store whose link was down is not failed for it); and its share of server
/// errors, from its own <c>/metrics</c>, is not above the replaced version's by more than
/// <see cref="DeployAgentOptions.ErrorRateMargin"/>. What failed is said in words for the fleet page.
/// </summary>
internal sealed class SoakGate(DeployAgentOptions options, IStoreRuntime runtime, StoreLink store)
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    private const int MissesAllowed = 3;
    private const long ErrorRateMinimumRequests = 50;

    private DateTimeOffset Now => options.Time.GetUtcNow();

    /// <summary>What the agent compares the changed store server with.</summary>
    public async Task<StoreBefore> BeforeAsync(CancellationToken cancellationToken) =>
        new(await store.HealthAsync(cancellationToken), await store.MetricsAsync(cancellationToken));

    /// <summary>Waits until the store server the runtime has just restored answers ready (whatever process it is).</summary>
    public async Task<string?> ReadyAsync(CancellationToken cancellationToken) =>
        (await StartedAsync(null, restartsBefore: 0, cancellationToken)).Problem;

    /// <summary>The whole gate, against the store server as it was before the change.</summary>
    /// <param name="before">The store before the change.</param>
    /// <param name="replaced">Whether the change replaced the process (a new one must answer) or changed it in place.</param>
    /// <param name="cancellationToken">Stops the soak.</param>
    public async Task<SoakVerdict> SoakAsync(StoreBefore before, bool replaced, CancellationToken cancellationToken)
    {
        // A replaced store server runs in a new container, whose every restart counts; changed in place, those from now on.
        var restarts = replaced ? 0 : await runtime.RestartsAsync(cancellationToken);
        var (health, problem) = await StartedAsync(replaced ? before.Health : null, restarts, cancellationToken);
        if (problem is not null || health is null)
        {
            return new SoakVerdict(problem, health);
        }

        var readyAt = Now;
        var misses = 0;
        while (Now - readyAt < options.SoakTime)
        {
            await Task.Delay(Every, options.Time, cancellationToken);
            var now = await store.HealthAsync(cancellationToken);
            health = now ?? health;
            misses = now is { Ready: true } ? 0 : misses + 1;
            if (misses >= MissesAllowed)
            {
                return new SoakVerdict($"readiness failing after {Seconds(Now - readyAt)} of the soak: {(now is null ? "the store server does not answer" : "it answers not ready")}", health);
            }

            if (await CrashLoopAsync(restarts, readyAt, cancellationToken) is { } crashes)
            {
                return new SoakVerdict(crashes, health);
            }
        }

        // Sync: only when the version replaced had its link, or a store cut off from HQ could never pass.
        if (before.Health?.Link is { State: ConnectivityState.Online } && health.Link is not null)
        {
            while (health.Link?.LastDownSuccess is null || health.Link.LastUpSuccess is null)
            {
                if (Now - readyAt >= options.SyncResumeLimit)
                {
                    return new SoakVerdict($"sync not resumed within {Seconds(options.SyncResumeLimit)} of starting: {health.Link?.LastError ?? "HQ not reached yet"}", health);
                }

                await Task.Delay(Every, options.Time, cancellationToken);
                health = await store.HealthAsync(cancellationToken) ?? health;
            }
        }

        return new SoakVerdict(ErrorRate(before, health, await store.MetricsAsync(cancellationToken)), health);
    }

    // The changed process's share of server errors (since it started, or since the change when it is the same process)
    // against the share the process before had answered with.
    private string? ErrorRate(StoreBefore before, StoreHealthResponse health, ServerMetrics? after)
    {
        if (after is null)
        {
            return null; // its metrics did not answer: readiness and restarts above are the verdict
        }

        var sameProcess = before.Metrics is not null && before.Health?.StartedAt == health.StartedAt;
        var changed = sameProcess ? after.Since(before.Metrics!) : after;
        if (changed.Requests < ErrorRateMinimumRequests)
        {
            return null;
        }

        var rate = (decimal)(changed.ServerErrors / changed.Requests);
        var old = before.Metrics is { Requests: > 0 } m ? (decimal)(m.ServerErrors / m.Requests) : 0m;
        return rate > old + options.ErrorRateMargin
            ? string.Create(CultureInfo.InvariantCulture, $"server errors on {rate:P1} of {changed.Requests:0} requests, against {old:P1} before")
            : null;
    }

    // Until a ready answer from a process other than `before`'s (any process when null): that answer and no problem;
    // or a crash loop, or the limit: the last answer seen (null if none) and what is wrong.
    private async Task<(StoreHealthResponse? Health, string? Problem)> StartedAsync(StoreHealthResponse? before, int restartsBefore, CancellationToken cancellationToken)
    {
        var since = Now;
        StoreHealthResponse? seen = null;
        while (true)
        {
            var health = await store.HealthAsync(cancellationToken);
            seen = health ?? seen;
            var replaced = health is not null && (before is null || health.StartedAt != before.StartedAt);
            if (health is { Ready: true } && replaced)
            {
                return (health, null);
            }

            if (await CrashLoopAsync(restartsBefore, since, cancellationToken) is { } crashes)
            {
                return (seen, crashes);
            }

            if (Now - since >= options.StartLimit)
            {
                var last = health is null ? "the store server does not answer" : !replaced ? "the old store server still answers" : "it answers not ready";
                return (seen, $"not ready within {Seconds(options.StartLimit)}: {last}");
            }

            await Task.Delay(Every, options.Time, cancellationToken);
        }
    }

    private async Task<string?> CrashLoopAsync(int restartsBefore, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var restarts = await runtime.RestartsAsync(cancellationToken) - restartsBefore;
        return restarts >= options.CrashLoopRestarts
            ? $"crash loop: the store server restarted {restarts} times in {Seconds(Now - since)}"
            : null;
    }

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s");
}
