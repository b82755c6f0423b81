using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Outpost.Store.Devices;

/// <summary>Settings of device authentication.</summary>
public sealed class DeviceAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>A token that acts as the back office (to enrol the first devices); null: none.</summary>
    public string? AdminToken { get; set; }
}

/// <summary>
/// Authenticates a device by its credential: the HttpOnly cookie its page got when it was paired
/// (<see cref="CookieName"/>), or <c>Authorization: Bearer …</c> (devices that are not browsers, the deploy agent, the
/// API). Never from a query string: a credential in an address lands in browser history, proxies and logs. Unknown or
/// revoked credentials get 401 with a message; a role the endpoint does not accept, 403. A request that changes
/// something on the strength of the cookie must carry <see cref="RequestHeader"/> (the pages' script sends it; a form
/// or image on another site cannot), or it is refused as cross-site. An address that fails
/// <see cref="FailureLimiter.MaxFailures"/> times in <see cref="FailureLimiter.Window"/> gets 429 until it may try again;
/// failures are audited.
/// </summary>
public sealed class DeviceAuthenticationHandler(IOptionsMonitor<DeviceAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, StoreServices services)
    : AuthenticationHandler<DeviceAuthenticationOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "Device";

    /// <summary>The claim that carries the device id.</summary>
    public const string DeviceIdClaim = "device";

    /// <summary>The cookie that holds a paired page's credential (HttpOnly, SameSite=Strict, Secure over HTTPS).</summary>
    public const string CookieName = "outpost-device";

    /// <summary>The header a page's script sends with every request, which a cross-site form cannot.</summary>
    public const string RequestHeader = "X-Outpost-Request";

    private const string RefusalItem = "outpost.auth-refusal";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        var fromCookie = !header.StartsWith("Bearer ", StringComparison.Ordinal);
        var token = fromCookie ? Request.Cookies[CookieName] ?? "" : header[7..].Trim();
        if (token.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (services.Limiter.RetryAfter(address) is { } wait)
        {
            Context.Items[RefusalItem] = (StatusCodes.Status429TooManyRequests, wait);
            return AuthenticateResult.Fail("Too many failed sign-ins from this address.");
        }

        Device? device = Options.AdminToken is { Length: > 0 } admin && CryptographicEquals(token, admin)
            ? new Device("admin", "Back office (admin token)", DeviceRoles.BackOffice, DateTimeOffset.MinValue, "start-up", false)
            : services.Devices.Authenticate(token);
        if (device is null)
        {
            services.Limiter.Failed(address);
            await services.Pairing.AuditAsync("SignInFailed", address, null, null, $"an unknown or revoked device credential ({(fromCookie ? "cookie" : "bearer")}) on {Request.Method} {Request.Path}", Context.RequestAborted);
            return AuthenticateResult.Fail("Unknown or revoked device token.");
        }

        if (fromCookie && !HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && !HttpMethods.IsOptions(Request.Method) && !Request.Headers.ContainsKey(RequestHeader))
        {
            Context.Items[RefusalItem] = (StatusCodes.Status403Forbidden, TimeSpan.Zero);
            return AuthenticateResult.Fail("Cross-site request.");
        }

        var identity = new ClaimsIdentity([new Claim(DeviceIdClaim, device.Id), new Claim(ClaimTypes.Name, device.Name), new Claim(ClaimTypes.Role, device.Role)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items[RefusalItem] is (int status, TimeSpan wait))
        {
            if (status == StatusCodes.Status429TooManyRequests)
            {
                var (seconds, detail) = FailureLimiter.Refusal(wait);
                Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Problem(status, "Too many failed attempts", detail);
            }

            return Problem(status, "Cross-site request refused",
                $"A request that changes something must come from the store's own pages (they send {RequestHeader}); this one did not, so it may come from another site.");
        }

        return Problem(StatusCodes.Status401Unauthorized, "Device not signed in",
            "Pair this device: the back office shows a pairing code (and its QR code) for it, valid a few minutes; enter it on the store's start page. A device that is not a browser sends 'Authorization: Bearer <device token>'. A revoked device must be paired again.");
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problem(StatusCodes.Status403Forbidden, "Wrong role",
            $"A {Context.User.FindFirstValue(ClaimTypes.Role)} device cannot do this; the endpoint accepts: {Context.GetEndpoint()?.Metadata.GetMetadata<RolesMetadata>()?.Description ?? "other roles"}.");

    private static bool CryptographicEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));

    private Task Problem(int status, string title, string detail)
    {
        Response.StatusCode = status;
        return Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail },
            StoreJsonContext.Default.ProblemDetails, "application/problem+json");
    }
}

/// <summary>The roles an endpoint accepts, for messages.</summary>
/// <param name="Roles">The roles.</param>
public sealed record RolesMetadata(IReadOnlyList<string> Roles)
{
    /// <summary>The roles as words.</summary>
    public string Description => string.Join(", ", Roles);
}

/// <summary>Role rules for endpoints.</summary>
public static class DeviceAuthorization
{
    /// <summary>Only devices in these roles may call the endpoint(s).</summary>
    public static TBuilder Roles<TBuilder>(this TBuilder builder, params string[] roles)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireAuthorization(policy => policy.AddAuthenticationSchemes(DeviceAuthenticationHandler.SchemeName).RequireRole(roles));
        builder.WithMetadata(new RolesMetadata(roles));
        return builder;
    }

    /// <summary>The calling device's id.</summary>
    public static string DeviceId(this ClaimsPrincipal user) => user?.FindFirstValue(DeviceAuthenticationHandler.DeviceIdClaim) ?? "unknown";

    /// <summary>The calling device's role.</summary>
    public static string Role(this ClaimsPrincipal user) => user?.FindFirstValue(ClaimTypes.Role) ?? "unknown";
}
