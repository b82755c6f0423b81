using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Agent;
using Outpost.Sync.Rollouts;
using Outpost.Store.Devices;
using static Outpost.Store.Devices.DeviceRoles;

namespace Outpost.Store.Api;

/// <summary>
/// The store's side of rollouts (<c>/api/deploy</c>), for its deploy agent: the desired release as it came down the
/// feed, and the agent's steps, appended to the store's log on <see cref="RolloutEvents.ProgressTopic"/> so they go up
/// to HQ with the rest when the link is up, and wait in the log when it is not.
/// </summary>
public static class DeployApi
{
    private const int MaxReason = 500;

    /// <summary>The version of this build (the image's version: <c>-p:Version</c> at publish), without the source revision.</summary>
    public static string RunningVersion { get; } =
        (typeof(DeployApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>Maps <c>GET /api/deploy/desired</c> (agent, back office) and <c>POST /api/deploy/progress</c> (agent).</summary>
    public static IEndpointRouteBuilder MapDeployApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/deploy").WithTags("Deployment");
        group.MapGet("/desired", async (IEventLog log, StoreOptions options, CancellationToken ct) =>
            TypedResults.Ok(new DesiredResponse(await DesiredAsync(log, options.StoreId, ct), options.TimeZone, await LastReportAsync(log, ct)))).Roles(Agent, BackOffice);
        group.MapPost("/progress", ReportAsync).Roles(Agent);
        group.MapGet("/settings", (LiveSettings live) => TypedResults.Ok(new LiveSettingsResponse(live.Version, live.Current))).Roles(Agent, BackOffice);
        group.MapPut("/settings", ApplySettings).Roles(Agent);
        group.MapGet("/health", (IEventLog log, IStorageHealth storage, StoreOptions options, ProcessStart start, ConnectivityMonitor link) =>
            TypedResults.Ok(new StoreHealthResponse(RunningVersion, start.At, storage.Problem is null, options.Sync.Central is null ? null : link.Current,
                DataVersion(options), storage.Problem, log.CorruptRecordsSeen))).Roles(Agent, BackOffice);
        return app;
    }

    private static Results<Ok<LiveSettingsResponse>, ProblemHttpResult> ApplySettings(LiveSettingsRequest body, LiveSettings live)
    {
        if (body.Version is not { Length: > 0 and <= 100 } version || body.Settings is not { } settings)
        {
            return TypedResults.Problem("'version' (the release's) and 'settings' (by configuration key) are required.", statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid settings");
        }

        try
        {
            live.Apply(version, settings);
            return TypedResults.Ok(new LiveSettingsResponse(live.Version, live.Current));
        }
        catch (LiveSettingsException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: ex.NeedsRestart ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest,
                title: ex.NeedsRestart ? "Needs a restart" : "Invalid settings");
        }
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> ReportAsync(ProgressRequest body, IEventLog log, StoreOptions options, CancellationToken ct)
    {
        if (body.Step is not { } step || !Enum.IsDefined(step))
        {
            return Invalid($"'step' is required: one of {string.Join(", ", Enum.GetNames<DeploymentStep>())}.");
        }

        if (body.Reason?.Length > MaxReason)
        {
            return Invalid($"'reason' is at most {MaxReason} characters.");
        }

        var desired = await DesiredAsync(log, options.StoreId, ct);
        if (desired is null || desired.RolloutId != body.RolloutId || desired.Version != body.Version)
        {
            return TypedResults.Problem(desired is null
                    ? "HQ has asked this store to run no release: there is nothing to report on."
                    : $"This store is asked to run {desired.Version} (rollout {desired.RolloutId}), not {body.Version} (rollout {body.RolloutId}): the report is stale.",
                statusCode: StatusCodes.Status409Conflict, title: "Not the desired release");
        }

        await log.AppendAsync(new NewEvent
        {
            Topic = RolloutEvents.ProgressTopic,
            Type = RolloutEvents.DeploymentProgressed,
            Key = desired.RolloutId,
            Scope = Scope.Store(options.StoreId),
            Payload = NewEvent.Json(new DeploymentProgressedV1(desired.RolloutId, desired.Version, step, body.Reason), RolloutJsonContext.Default.DeploymentProgressedV1),
        }, ct);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<DesiredReleaseV1?> DesiredAsync(IEventLog log, string storeId, CancellationToken ct)
    {
        var events = await log.ReadAllAsync(new ReadFilter { Topics = [RolloutEvents.DeployTopic], Types = [RolloutEvents.DesiredRelease] }, cancellationToken: ct);
        return events.LastOrDefault(e => e.Key == storeId)?.Deserialize(RolloutJsonContext.Default.DesiredReleaseV1);
    }

    private static async Task<DeploymentProgressedV1?> LastReportAsync(IEventLog log, CancellationToken ct)
    {
        var events = await log.ReadAllAsync(new ReadFilter { Topics = [RolloutEvents.ProgressTopic], Types = [RolloutEvents.DeploymentProgressed] }, cancellationToken: ct);
        return events.Count == 0 ? null : events[^1].Deserialize(RolloutJsonContext.Default.DeploymentProgressedV1);
    }

    // The log file's schema version as it is on disk now (PRAGMA user_version), read on its own read-only connection.
    private static int DataVersion(StoreOptions options)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
        {
            DataSource = options.LogPath,
            Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static ProblemHttpResult Invalid(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid report");
}

/// <summary>When this store server process started (what tells the deploy agent a new process answers).</summary>
public sealed record ProcessStart(DateTimeOffset At);
