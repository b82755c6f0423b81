using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Central.MasterData;

namespace Outpost.Central.Rollouts;

/// <summary>The release-admin role: only the named admins HQ was started with as release admins record releases and move rollouts.</summary>
internal static class ReleaseAdmins
{
    /// <summary>Who the admin token belongs to (the audit trail's name).</summary>
    public static string Actor(HttpContext context) => context.Items[MasterDataApi.ActorItem] as string ?? "";

    /// <summary>Null when the caller holds the role; otherwise the 403 that says who may.</summary>
    public static ProblemHttpResult? Refuse(HttpContext context, IReadOnlySet<string> releaseAdmins, string doing) =>
        releaseAdmins.Contains(Actor(context)) ? null : TypedResults.Problem(
            $"'{Actor(context)}' may not {doing}: only the admins HQ was started with as release admins (--release-admin NAME) may.",
            statusCode: StatusCodes.Status403Forbidden, title: "Release admin role required");
}
