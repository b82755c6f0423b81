using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Sync.Rollouts;

namespace Outpost.Central.Rollouts;

/// <summary>
/// Rollouts at HQ (<c>/admin/rollouts</c>): a recorded release, planned in waves over the fleet, moved by the
/// <see cref="RolloutConductor"/>; halted, resumed and aborted by release admins only.
/// </summary>
public static class RolloutsApi
{
    private const int MaxWaves = 20;

    /// <summary>Maps the rollout endpoints under the admin group.</summary>
    public static RouteGroupBuilder MapRollouts(this RouteGroupBuilder group, IReadOnlySet<string> releaseAdmins)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.MapPost("/rollouts", (RolloutBody body, HttpContext context, IEventLog log, StoreDirectory stores, RolloutConductor conductor, CancellationToken cancellationToken) =>
            StartAsync(body, context, log, stores, conductor, releaseAdmins, cancellationToken));
        group.MapGet("/rollouts", async (IEventLog log, CancellationToken cancellationToken) =>
            TypedResults.Ok<IReadOnlyList<RolloutView>>([.. (await RolloutBook.ReadAsync(log, cancellationToken)).Select(r => r.View())]));
        foreach (var (action, type) in new[] { ("halt", RolloutBook.Halted), ("resume", RolloutBook.Resumed), ("abort", RolloutBook.Aborted) })
        {
            group.MapPost($"/rollouts/{{id}}/{action}", (string id, RolloutActionBody? body, HttpContext context, IEventLog log, RolloutConductor conductor, CancellationToken cancellationToken) =>
                ActAsync(id, action, type, body?.Reason, context, log, conductor, releaseAdmins, cancellationToken));
        }

        return group;
    }

    private static async Task<Results<Created<RolloutView>, ProblemHttpResult>> StartAsync(RolloutBody body, HttpContext context, IEventLog log, StoreDirectory stores,
        RolloutConductor conductor, IReadOnlySet<string> releaseAdmins, CancellationToken cancellationToken)
    {
        if (ReleaseAdmins.Refuse(context, releaseAdmins, "move rollouts") is { } refused)
        {
            return refused;
        }

        var release = (await ReleasesApi.ListAsync(log, cancellationToken)).FirstOrDefault(r => r.Version == body.Release);
        if (release is null)
        {
            return Invalid($"'release' must name a recorded release (GET /admin/releases); '{body.Release}' is not one.");
        }

        if (body.Waves is not { Count: > 0 and <= MaxWaves } waves)
        {
            return Invalid($"'waves' is required: 1 to {MaxWaves} waves, each with 'stores', a 'region' (and 'percent') or 'all': true.");
        }

        if (body.SoakSeconds is < 0 or > 86_400 || body.HealthyPercent is < 1 or > 100)
        {
            return Invalid("'soakSeconds' is 0 to 86400 and 'healthyPercent' 1 to 100.");
        }

        MaintenanceWindow? window = null;
        if (!body.Force && (body.WindowStart is not null || body.WindowEnd is not null))
        {
            if (!TimeOnly.TryParseExact(body.WindowStart, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
                || !TimeOnly.TryParseExact(body.WindowEnd, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end) || start == end)
            {
                return Invalid("'windowStart' and 'windowEnd' are store-local times HH:mm, both or neither, and not equal (for example 02:00 and 05:00).");
            }

            window = new MaintenanceWindow(start, end);
        }

        var active = (await RolloutBook.ReadAsync(log, cancellationToken)).FirstOrDefault(r => r.Status is RolloutStatus.Running or RolloutStatus.Halted);
        if (active is not null)
        {
            return TypedResults.Problem($"Rollout {active.Started.RolloutId} of {active.Started.Version} is {active.Status.ToString().ToLowerInvariant()}: complete or abort it first.",
                statusCode: StatusCodes.Status409Conflict, title: "A rollout is in progress");
        }

        var registered = (await stores.ListAsync(cancellationToken)).Where(s => !s.Revoked).ToList();
        var registeredIds = registered.Select(s => s.StoreId).ToHashSet(StringComparer.Ordinal);
        var planned = new List<PlannedWave>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < waves.Count; i++)
        {
            var wave = waves[i];
            var name = string.IsNullOrWhiteSpace(wave.Name) ? $"wave {i + 1}" : wave.Name.Trim();
            var kinds = (wave.Stores is { Count: > 0 } ? 1 : 0) + (wave.Region is not null ? 1 : 0) + (wave.All ? 1 : 0);
            if (kinds != 1 || name.Length > 64)
            {
                return Invalid($"Wave '{name}' must have exactly one of 'stores', 'region' or 'all', and a name of at most 64 characters.");
            }

            List<string> members;
            if (wave.Stores is { Count: > 0 } named)
            {
                var unknown = named.Where(s => !registeredIds.Contains(s)).ToList();
                if (unknown.Count > 0)
                {
                    return Invalid($"Wave '{name}' names stores that are not registered (or are revoked): {string.Join(", ", unknown)}.");
                }

                members = [.. named.Distinct(StringComparer.Ordinal)];
            }
            else if (wave.Region is { } region)
            {
                if (wave.Percent is < 1 or > 100)
                {
                    return Invalid($"Wave '{name}': 'percent' is 1 to 100.");
                }

                // A share of a region: its stores in an order fixed by a hash of their ids (spread, yet the same on every node).
                var inRegion = registered.Where(r => r.Region == region && !placed.Contains(r.StoreId)).Select(r => r.StoreId)
                    .OrderBy(s => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(s))), StringComparer.Ordinal).ToList();
                members = [.. inRegion.Take((int)Math.Ceiling(inRegion.Count * (wave.Percent ?? 100) / 100.0))];
            }
            else
            {
                members = [.. registered.Select(r => r.StoreId).Order(StringComparer.Ordinal)];
            }

            members = [.. members.Where(placed.Add)];
            if (members.Count == 0)
            {
                return Invalid($"Wave '{name}' names no store that an earlier wave does not already hold.");
            }

            planned.Add(new PlannedWave(name, members));
        }

        var actor = ReleaseAdmins.Actor(context);
        var rolloutId = $"{release.Version}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var started = new RolloutStartedV1(rolloutId, release.Version, release.Image, release.Settings, planned, body.SoakSeconds ?? 300, body.HealthyPercent ?? 100, window, actor);
        await log.AppendAsync(new Core.Events.NewEvent
        {
            Topic = MasterData.AuditTrail.AuditTopic,
            Type = RolloutBook.Started,
            Key = rolloutId,
            Payload = Core.Events.NewEvent.Json(started, Admin.AdminJsonContext.Default.RolloutStartedV1),
            CorrelationId = "admin:" + actor,
        }, cancellationToken);
        await conductor.StepAsync(cancellationToken); // the first wave opens now, not at the next tick
        var view = (await RolloutBook.ReadAsync(log, cancellationToken)).First(r => r.Started.RolloutId == rolloutId).View();
        return TypedResults.Created($"/admin/rollouts/{rolloutId}", view);
    }

    private static async Task<Results<Ok<RolloutView>, NotFound<string>, ProblemHttpResult>> ActAsync(string id, string action, string type, string? reason, HttpContext context,
        IEventLog log, RolloutConductor conductor, IReadOnlySet<string> releaseAdmins, CancellationToken cancellationToken)
    {
        if (ReleaseAdmins.Refuse(context, releaseAdmins, "move rollouts") is { } refused)
        {
            return refused;
        }

        if ((await RolloutBook.ReadAsync(log, cancellationToken)).FirstOrDefault(r => r.Started.RolloutId == id) is not { } rollout)
        {
            return TypedResults.NotFound($"No rollout {id}.");
        }

        var allowed = action switch
        {
            "halt" => rollout.Status == RolloutStatus.Running,
            "resume" => rollout.Status == RolloutStatus.Halted,
            _ => rollout.Status is RolloutStatus.Running or RolloutStatus.Halted,
        };
        if (!allowed)
        {
            return TypedResults.Problem($"Rollout {id} is {rollout.Status.ToString().ToLowerInvariant()}: it cannot be {(action == "halt" ? "halted" : action + "d")}.",
                statusCode: StatusCodes.Status409Conflict, title: "Not now");
        }

        await conductor.ChangeAsync(type, id, Math.Max(rollout.WavesOpened - 1, 0), reason?.Length > 500 ? reason[..500] : reason, ReleaseAdmins.Actor(context), cancellationToken);
        return TypedResults.Ok((await RolloutBook.ReadAsync(log, cancellationToken)).First(r => r.Started.RolloutId == id).View());
    }

    private static ProblemHttpResult Invalid(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid rollout");
}
