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
/// Authenticates a device by its bearer token (<c>Authorization: Bearer …</c>, or <c>access_token</c> in the
/// query for an <c>EventSource</c>, which cannot set headers). Unknown or revoked tokens get 401 with a
/// message; a role the endpoint does not accept gets 403.
/// </summary>
public sealed class DeviceAuthenticationHandler(IOptionsMonitor<DeviceAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, StoreServices services)
    : AuthenticationHandler<DeviceAuthenticationOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "Device";

    /// <summary>The claim that carries the device id.</summary>
    public const string DeviceIdClaim = "device";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..].Trim() : Request.Query["access_token"].ToString();
        if (token.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        Device? device = Options.AdminToken is { Length: > 0 } admin && CryptographicEquals(token, admin)
            ? new Device("admin", "Back office (admin token)", DeviceRoles.BackOffice, DateTimeOffset.MinValue, "start-up", false)
            : services.Devices.Authenticate(token);
        if (device is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown or revoked device token."));
        }

        var identity = new ClaimsIdentity([new Claim(DeviceIdClaim, device.Id), new Claim(ClaimTypes.Name, device.Name), new Claim(ClaimTypes.Role, device.Role)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problem(StatusCodes.Status401Unauthorized, "Device token required",
            "Send 'Authorization: Bearer <device token>'. Tokens are issued when a device is enrolled in the back office; a revoked token no longer works.");

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
