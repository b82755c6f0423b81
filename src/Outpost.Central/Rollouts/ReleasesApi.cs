using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Central.Admin;
using Outpost.Central.MasterData;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Rollouts;

namespace Outpost.Central.Rollouts;

/// <summary>A release as an admin sends it: a version, the image pinned by digest, and the store settings it runs with.</summary>
/// <param name="Version">The release's version (for example 1.0.1, or 1.0.1-config.2 for a configuration-only release).</param>
/// <param name="Image">The image, registry/repository@sha256:&lt;digest&gt;.</param>
/// <param name="Settings">Store settings by configuration key (see <see cref="ReleaseSettings"/>); none: the defaults.</param>
public sealed record ReleaseBody(string? Version, string? Image, Dictionary<string, JsonElement>? Settings);

/// <summary>Version 1 of <c>ReleaseRecorded</c> (topic <c>audit</c>, key = version): a release HQ can roll out.</summary>
public sealed record ReleaseRecordedV1(string Version, string Image, IReadOnlyDictionary<string, string> Settings, string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>
/// Releases at HQ (<c>/admin/releases</c>): recorded only by an admin with the release-admin role, only for an image
/// the registry holds at exactly the named digest and only with settings a store knows; each one is an event in HQ's
/// log, so the audit trail lists it with who recorded it.
/// </summary>
public static partial class ReleasesApi
{
    /// <summary>The event type of a recorded release.</summary>
    public const string ReleaseRecorded = "ReleaseRecorded";

    /// <summary>Maps <c>POST</c> and <c>GET /releases</c> under the admin group.</summary>
    public static RouteGroupBuilder MapReleases(this RouteGroupBuilder group, IReadOnlySet<string> releaseAdmins)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.MapPost("/releases", (ReleaseBody body, HttpContext context, IEventLog log, RegistryClient registry, TimeProvider time, CancellationToken cancellationToken) =>
            RecordAsync(body, context, log, registry, time, releaseAdmins, cancellationToken));
        group.MapGet("/releases", async (IEventLog log, CancellationToken cancellationToken) => TypedResults.Ok(await ListAsync(log, cancellationToken)));
        return group;
    }

    /// <summary>Every recorded release, oldest first.</summary>
    public static async Task<IReadOnlyList<ReleaseRecordedV1>> ListAsync(IEventLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var filter = new ReadFilter { Topics = [AuditTrail.AuditTopic], Types = [ReleaseRecorded] };
        return [.. (await log.ReadAllAsync(filter, cancellationToken: cancellationToken)).Select(e => e.Deserialize(AdminJsonContext.Default.ReleaseRecordedV1))];
    }

    private static async Task<Results<Created<ReleaseRecordedV1>, Ok<ReleaseRecordedV1>, ProblemHttpResult>> RecordAsync(ReleaseBody body, HttpContext context, IEventLog log,
        RegistryClient registry, TimeProvider time, IReadOnlySet<string> releaseAdmins, CancellationToken cancellationToken)
    {
        if (ReleaseAdmins.Refuse(context, releaseAdmins, "record releases") is { } refused)
        {
            return refused;
        }

        var actor = ReleaseAdmins.Actor(context);
        if (body.Version is not { } version || !VersionPattern().IsMatch(version))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid release", "'version' is required: major.minor.patch with an optional -suffix, for example 1.0.1 or 1.0.1-config.2.");
        }

        if (!ImageReference.TryParse(body.Image, out var image, out var imageProblem))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid release", "'image': " + imageProblem);
        }

        if (ReleaseSettings.Validate(body.Settings ?? [], out var settings) is { } settingsProblem)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid release", "'settings': " + settingsProblem);
        }

        var existing = (await ListAsync(log, cancellationToken)).FirstOrDefault(r => r.Version == version);
        if (existing is not null)
        {
            // The same release sent again (a retried request) is answered as recorded; another one under its version is refused.
            return existing.Image == image.ToString() && existing.Settings.OrderBy(s => s.Key).SequenceEqual(settings.OrderBy(s => s.Key))
                ? TypedResults.Ok(existing)
                : Problem(StatusCodes.Status409Conflict, "Release exists", $"Release {version} is already recorded with other contents: a release never changes; record a new version.");
        }

        var (found, detail) = await registry.CheckAsync(image, cancellationToken);
        switch (found)
        {
            case ImageCheck.Found:
                break;
            case ImageCheck.Unreachable:
                return Problem(StatusCodes.Status503ServiceUnavailable, "Registry unreachable", detail + ". Nothing was recorded; try again when HQ can reach it.");
            default:
                return Problem(StatusCodes.Status422UnprocessableEntity, "Image not in the registry", detail + ". Push the image first, then record the release with the digest the push printed.");
        }

        var release = new ReleaseRecordedV1(version, image.ToString(), settings, actor, time.GetUtcNow());
        await log.AppendAsync(new NewEvent
        {
            Topic = AuditTrail.AuditTopic,
            Type = ReleaseRecorded,
            Key = version,
            Payload = NewEvent.Json(release, AdminJsonContext.Default.ReleaseRecordedV1),
            CorrelationId = "admin:" + actor,
        }, cancellationToken);
        return TypedResults.Created($"/admin/releases/{version}", release);
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    [GeneratedRegex(@"^\d{1,6}\.\d{1,6}\.\d{1,6}(?:-[0-9A-Za-z.-]{1,64})?$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();
}
