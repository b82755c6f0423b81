using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Outpost.Sync.Hq;

/// <summary>
/// HQ's limit per store, with ASP.NET Core's rate limiter: each store may have at most
/// <see cref="SyncServerOptions.MaxConcurrentPerStore"/> sync requests in progress at once (its agent needs its up
/// batches in flight, one long poll, and a few left over from timeouts), so a store that misbehaves (a loop, a
/// flood, a stolen credential) holds a bounded share of HQ and cannot starve the fleet. One over gets 429 with
/// Retry-After, which the store's agent treats like any failure: it backs off and sends again. The partition is the
/// store id the request names with the client's address, so a request naming another store cannot use up that
/// store's share from elsewhere.
/// </summary>
public static class SyncRateLimits
{
    /// <summary>The policy the sync endpoints require.</summary>
    public const string PerStorePolicy = "per-store";

    /// <summary>Registers the limiter (the host also calls <c>UseRateLimiter</c>).</summary>
    public static IServiceCollection AddSyncRateLimits(this IServiceCollection services, SyncServerOptions sync)
    {
        ArgumentNullException.ThrowIfNull(sync);
        return services.AddRateLimiter(options =>
        {
            options.AddPolicy(PerStorePolicy, context => RateLimitPartition.GetConcurrencyLimiter(Partition(context), _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = sync.MaxConcurrentPerStore,
                QueueLimit = 0,
            }));
            options.OnRejected = async (rejected, cancellationToken) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = "1";
                await TypedResults.Problem(
                    string.Create(CultureInfo.InvariantCulture, $"This store already has {sync.MaxConcurrentPerStore} sync requests in progress at HQ; nothing was applied. Send again after the ones in flight end."),
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests from this store").ExecuteAsync(rejected.HttpContext);
            };
        });
    }

    private static string Partition(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var colon = header.IndexOf(':', StringComparison.Ordinal);
        var store = header.StartsWith("Bearer ", StringComparison.Ordinal) && colon > 7 ? header[7..Math.Min(colon, 7 + 128)] : "";
        return store + "@" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }
}
