using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Outpost.Sync.Rollouts;

namespace Outpost.Deploy;

/// <summary>
/// A store's deploy agent (<c>outpost agent</c>): its own process beside the store server, so that it can replace it.
/// Every <see cref="DeployAgentOptions.PollInterval"/> it asks the store which release HQ wants it to run (desired
/// state, from the store's down feed: a store offline for a whole rollout converges when it is back) and converges on it:
/// pulls the image by digest ahead of the maintenance window, applies it through the runtime inside the window, watches
/// it through a soak (<see cref="SoakGate"/>), and restores the release before by itself when it is unhealthy. Each step
/// is a report to the store, which appends it to its log for HQ; reports wait in the agent's state file while the store
/// does not answer (it is down while being replaced), and go when it answers again.
/// </summary>
public sealed partial class DeployAgent(DeployAgentOptions options, IStoreRuntime runtime, StoreLink store, ILogger<DeployAgent> logger) : BackgroundService
{
    private readonly string _statePath = Path.Combine(options.StateDirectory, "agent-state.json");
    private readonly SoakGate _gate = new(options, runtime, store);
    private AgentState? _state;

    /// <summary>When the agent last finished a pass (null before its first): its readiness.</summary>
    public DateTimeOffset? LastPass { get; private set; }

    /// <summary>What failed in the last pass that failed, if the last pass failed.</summary>
    public string? LastError { get; private set; }

    /// <summary>What the agent remembers (read from its state file on first use).</summary>
    public AgentState State => _state ??= AgentState.Load(_statePath);

    /// <summary>One pass: send waiting reports, then converge on the desired release if there is one to act on.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        if (await store.DesiredAsync(cancellationToken) is not { } answer)
        {
            return; // the store does not answer: nothing is known to act on; the next tick asks again
        }

        State.Current ??= await InstalledAsync(cancellationToken);
        if (answer.Desired is not { } desired || State.Finished.Contains(AgentState.KeyOf(desired)))
        {
            return;
        }

        var key = AgentState.KeyOf(desired);
        var target = new RunningRelease(desired.Version, desired.Image, desired.Settings);
        var current = State.Current;
        if (current.SameAs(target))
        {
            State.Current = target;
            await FinishAsync(desired, DeploymentStep.Healthy, $"already running {desired.Image.Split('@')[^1][..19]} with these settings", cancellationToken);
            return;
        }

        // Download ahead of the window: the link may be gone by then.
        if (!await runtime.HasImageAsync(desired.Image, cancellationToken))
        {
            await ReportAsync(desired, DeploymentStep.Downloading, $"pulling {desired.Image}", cancellationToken);
            try
            {
                await runtime.PullAsync(desired.Image, cancellationToken);
            }
            catch (RuntimeException ex)
            {
                // A link down or a registry away: tried again next tick; the fleet page shows the store stuck, with why.
                await ReportAsync(desired, DeploymentStep.Downloading, $"download failed, retrying: {ex.Message}", cancellationToken);
                return;
            }
        }

        if (desired.Window is { } window && !window.Contains(LocalTime(answer.TimeZone)))
        {
            if (State.Waiting != key)
            {
                State.Waiting = key;
                await ReportAsync(desired, DeploymentStep.WaitingForWindow,
                    $"image ready; the window is {window.Start:HH\\:mm}–{window.End:HH\\:mm} {answer.TimeZone}", cancellationToken);
            }

            return;
        }

        if (current.Image == target.Image && await ApplyLiveAsync(desired, current, target, cancellationToken))
        {
            return;
        }

        await ApplyAsync(desired, current, target, cancellationToken);
    }

    /// <summary>Ticks until the host stops; a failed tick is logged and the next one tries again.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(options.StateDirectory);
        LogStarted(logger, options.Store, runtime.Name);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await TickAsync(stoppingToken);
                    LastError = null;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LastError = ex.Message;
                    LogTickFailed(logger, ex);
                }

                LastPass = options.Time.GetUtcNow();

                await Task.Delay(options.PollInterval, options.Time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ApplyAsync(DesiredReleaseV1 desired, RunningRelease current, RunningRelease target, CancellationToken cancellationToken)
    {
        var before = await _gate.BeforeAsync(cancellationToken);
        await ReportAsync(desired, DeploymentStep.Starting, $"replacing {current.Version} with {target.Version} ({runtime.Name})", cancellationToken);
        LogApplying(logger, target.Version, current.Version);
        SoakVerdict verdict;
        try
        {
            await runtime.ApplyAsync(target, cancellationToken);
            verdict = await _gate.SoakAsync(before, replaced: true, cancellationToken);
        }
        catch (RuntimeException ex)
        {
            verdict = new SoakVerdict(ex.Message, null);
        }

        if (verdict.Problem is not { } problem)
        {
            State.Current = target;
            State.DataVersion = verdict.Last?.DataVersion ?? State.DataVersion;
            await FinishAsync(desired, DeploymentStep.Healthy, $"healthy through a soak of {options.SoakTime.TotalSeconds:0} s", cancellationToken);
            return;
        }

        // Not past a migration: the release before cannot open data the new one migrated (the log refuses a newer file),
        // so restoring it would turn one unhealthy store server into one that cannot start. The new one stays; HQ halts.
        if (verdict.Last is { DataVersion: var migrated } && State.DataVersion is { } known && migrated > known)
        {
            State.Current = target;
            State.DataVersion = migrated;
            await FinishAsync(desired, DeploymentStep.Failed,
                $"{problem}; not rolled back: {target.Version} migrated the store's data to version {migrated} and {current.Version} reads up to version {known}, " +
                $"so {target.Version} is left running: roll forward with a fix", cancellationToken);
            return;
        }

        LogRollingBack(logger, target.Version, problem);
        string restored;
        try
        {
            await runtime.ApplyAsync(current, cancellationToken);
            restored = await _gate.ReadyAsync(cancellationToken) is { } notReady
                ? $"{current.Version} restored but not healthy: {notReady}"
                : $"{current.Version} restored";
        }
        catch (RuntimeException ex)
        {
            restored = $"restoring {current.Version} failed: {ex.Message}";
        }

        await FinishAsync(desired, DeploymentStep.RolledBack, $"{problem}; {restored}", cancellationToken);
    }

    // A configuration-only release: the store server puts the settings in force while it runs, and nothing restarts.
    // False when the runtime must apply it (settings read at start-up only) or the store did not answer (next tick).
    private async Task<bool> ApplyLiveAsync(DesiredReleaseV1 desired, RunningRelease current, RunningRelease target, CancellationToken cancellationToken)
    {
        var before = await _gate.BeforeAsync(cancellationToken);
        var (outcome, detail) = await store.ApplySettingsAsync(target.Version, target.Settings, cancellationToken);
        switch (outcome)
        {
            case LiveOutcome.NeedsRestart:
                LogNeedsRestart(logger, target.Version, detail);
                return false;
            case LiveOutcome.Unreachable:
                return true;
            case LiveOutcome.Invalid:
                await FinishAsync(desired, DeploymentStep.Failed, $"the store refused the settings: {detail}", cancellationToken);
                return true;
        }

        await ReportAsync(desired, DeploymentStep.Starting, $"settings of {target.Version} in force on the running store server, no restart", cancellationToken);
        if ((await _gate.SoakAsync(before, replaced: false, cancellationToken)).Problem is not { } problem)
        {
            State.Current = target;
            await FinishAsync(desired, DeploymentStep.Healthy, $"settings applied without a restart; healthy through a soak of {options.SoakTime.TotalSeconds:0} s", cancellationToken);
            return true;
        }

        var (restored, why) = await store.ApplySettingsAsync(current.Version, current.Settings, cancellationToken);
        await FinishAsync(desired, DeploymentStep.RolledBack,
            $"{problem}; {(restored == LiveOutcome.Applied ? $"the settings of {current.Version} restored" : $"restoring the settings of {current.Version} failed: {why}")}", cancellationToken);
        return true;
    }

    private async Task<RunningRelease> InstalledAsync(CancellationToken cancellationToken)
    {
        var installed = await runtime.CurrentAsync(cancellationToken);
        if (await store.HealthAsync(cancellationToken) is not { } health)
        {
            return installed;
        }

        // A manifest as installed names no release: the version is what the store server says it is.
        State.DataVersion ??= health.DataVersion;
        return installed.Version == "installed" ? installed with { Version = health.Version } : installed;
    }

    private DateTimeOffset Now => options.Time.GetUtcNow();

    private TimeOnly LocalTime(string timeZone)
    {
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var found) ? found : TimeZoneInfo.Utc;
        return TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(Now, zone).DateTime);
    }

    private async Task FinishAsync(DesiredReleaseV1 desired, DeploymentStep step, string reason, CancellationToken cancellationToken)
    {
        State.Finished.Add(AgentState.KeyOf(desired));
        State.Waiting = null;
        await ReportAsync(desired, step, reason, cancellationToken);
    }

    private async Task ReportAsync(DesiredReleaseV1 desired, DeploymentStep step, string reason, CancellationToken cancellationToken)
    {
        LogStep(logger, desired.Version, step, reason);
        State.Outbox.Add(new ProgressRequest(desired.RolloutId, desired.Version, step, reason.Length > 500 ? reason[..497] + "…" : reason));
        State.Save(_statePath);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Sends the waiting reports in order, as far as the store takes them.</summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var report in State.Outbox)
        {
            var (outcome, detail) = await store.ReportAsync(report, cancellationToken);
            if (outcome == ReportOutcome.Unreachable)
            {
                break;
            }

            if (outcome == ReportOutcome.Refused)
            {
                LogReportRefused(logger, report.Version, report.Step, detail);
            }

            sent++;
        }

        if (sent > 0)
        {
            State.Outbox.RemoveRange(0, sent);
            State.Save(_statePath);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deploy agent for {Store} started, runtime {Runtime}")]
    private static partial void LogStarted(ILogger logger, Uri store, string runtime);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Version} in place of {Current}")]
    private static partial void LogApplying(ILogger logger, string version, string current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Version} is unhealthy ({Problem}): restoring the release before")]
    private static partial void LogRollingBack(ILogger logger, string version, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Version}: {Step} ({Reason})")]
    private static partial void LogStep(ILogger logger, string version, DeploymentStep step, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store refused the report {Version} {Step}: {Detail}")]
    private static partial void LogReportRefused(ILogger logger, string? version, DeploymentStep? step, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Version}: settings read at start-up only ({Detail}); the runtime applies it")]
    private static partial void LogNeedsRestart(ILogger logger, string version, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A deploy agent pass failed; the next one tries again")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}
