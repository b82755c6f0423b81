using System.Security.Claims;
using Outpost.Store.Devices;
using static Outpost.Store.Devices.DeviceRoles;

namespace Outpost.Store.Api;

/// <summary>
/// Pairing devices: the back office asks for a code (<c>POST /api/devices/pairings</c>), the device exchanges it
/// (<c>POST /api/pair</c>) for its credential, set as an HttpOnly cookie for a page or given in the body to a device
/// that is not a browser. Wrong codes count against the client's address (<see cref="FailureLimiter"/>).
/// </summary>
internal static class PairingApi
{
    /// <summary>How long a page's credential cookie lives (browsers cap cookies at 400 days); revocation ends it sooner.</summary>
    private static readonly TimeSpan CookieLife = TimeSpan.FromDays(400);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/devices/pairings", async (PairingRequest body, ClaimsPrincipal user, HttpContext http, StoreServices s, CancellationToken ct) =>
        {
            var code = await s.Pairing.CreateAsync(body?.Name ?? "", body?.Role ?? "", user.DeviceId(), body?.Minutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
                $"{http.Request.Scheme}://{http.Request.Host}", ct);
            return TypedResults.Created("/api/pair", code);
        }).WithTags("Devices").Roles(BackOffice);

        api.MapPost("/pair", async (PairRequest body, HttpContext http, StoreServices s, CancellationToken ct) =>
        {
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (s.Limiter.RetryAfter(address) is { } wait)
            {
                var (seconds, detail) = FailureLimiter.Refusal(wait);
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed attempts");
            }

            var asBody = body?.Credential switch
            {
                null or "cookie" => false,
                "body" => true,
                var other => throw new ArgumentException($"'credential' is 'cookie' (a page) or 'body' (a device that keeps its own token), not '{other}'."),
            };
            if (await s.Pairing.RedeemAsync(body?.Code ?? "", address, ct) is not { } enrolled)
            {
                s.Limiter.Failed(address);
                return Results.Problem("This pairing code is unknown, was used already, or has expired: ask the back office for a new one (codes work once, for a few minutes).",
                    statusCode: StatusCodes.Status400BadRequest, title: "Pairing code not valid");
            }

            if (!asBody)
            {
                http.Response.Cookies.Append(DeviceAuthenticationHandler.CookieName, enrolled.Token, new CookieOptions
                {
                    HttpOnly = true,
                    Secure = http.Request.IsHttps,
                    SameSite = SameSiteMode.Strict,
                    Path = "/",
                    MaxAge = CookieLife,
                    IsEssential = true,
                });
            }

            return Results.Ok(new Paired(enrolled.Device, PageFor(enrolled.Device.Role), asBody ? enrolled.Token : null));
        }).WithTags("Devices").Produces<Paired>().AllowAnonymous();

        // Signing a page out forgets its cookie (the device stays enrolled until revoked in the back office).
        api.MapPost("/pair/sign-out", (HttpContext http) =>
        {
            http.Response.Cookies.Delete(DeviceAuthenticationHandler.CookieName, new CookieOptions { Path = "/", Secure = http.Request.IsHttps, SameSite = SameSiteMode.Strict, HttpOnly = true });
            return Results.NoContent();
        }).WithTags("Devices").Produces(StatusCodes.Status204NoContent).AllowAnonymous();

        api.MapGet("/whoami", (ClaimsPrincipal user) => TypedResults.Ok(new WhoAmI(user.DeviceId(), user.FindFirstValue(ClaimTypes.Name) ?? "", user.Role(), PageFor(user.Role()))))
            .WithTags("Devices").Roles([.. Enrollable]);
    }

    /// <summary>The page a device of <paramref name="role"/> opens.</summary>
    public static string PageFor(string role) => role switch
    {
        Till => "till.html",
        Kiosk => "kiosk.html",
        Signage => "menu.html",
        Kitchen => "kitchen.html",
        Handheld => "labels.html",
        BackOffice => "backoffice.html",
        _ => "index.html",
    };
}
