using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Outpost.Store.Devices;

namespace Outpost.Store.Api;

/// <summary>How fast one device may call the store server.</summary>
public sealed class DeviceRateLimitOptions
{
    /// <summary>Requests a device may make at once, after a quiet spell (the bucket's size).</summary>
    public int Burst { get; set; } = 200;

    /// <summary>Requests per second a device may keep up (the bucket's refill).</summary>
    public int PerSecond { get; set; } = 50;

    /// <summary>Requests a service (role <c>service</c>) may make at once: a machine that publishes and acknowledges, not a person.</summary>
    public int ServiceBurst { get; set; } = 1000;

    /// <summary>Requests per second a service may keep up.</summary>
    public int ServicePerSecond { get; set; } = 1000;
}

/// <summary>
/// ASP.NET Core's rate limiter on the device API (<c>/api/…</c>): a token bucket per device (its id, once authenticated;
/// otherwise the client's address: pairing, the start page's questions), sized far above what a person at a till
/// does (a busy till makes a few requests a second; the store benchmark's tills make 10) and far below a flood; a
/// service, a machine that publishes and acknowledges, has a bucket twenty times larger. A
/// request over the limit gets 429 with Retry-After and does nothing. Pages, health and metrics are not limited.
/// </summary>
public static class DeviceRateLimits
{
    /// <summary>Registers the limiter.</summary>
    public static IServiceCollection AddDeviceRateLimits(this IServiceCollection services, DeviceRateLimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
                {
                    return RateLimitPartition.GetNoLimiter("");
                }

                var key = context.User.FindFirst(DeviceAuthenticationHandler.DeviceIdClaim)?.Value is { } device
                    ? "device:" + device
                    : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                var service = context.User.IsInRole(DeviceRoles.Service);
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = service ? limits.ServiceBurst : limits.Burst,
                    TokensPerPeriod = service ? limits.ServicePerSecond : limits.PerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            options.OnRejected = (rejected, cancellationToken) => RejectAsync(rejected.HttpContext, rejected.Lease, cancellationToken);
        });
    }

    /// <summary>Answers 429 with Retry-After (the limiter's own when it knows, else one second) and a problem saying why.</summary>
    private static async ValueTask RejectAsync(HttpContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many requests",
            Detail = $"Requests from this device come faster than the store server accepts from one client; nothing was done. Try again in {seconds} s.",
        }, StoreJsonContext.Default.ProblemDetails, "application/problem+json", cancellationToken);
    }
}
