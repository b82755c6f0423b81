using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Outpost.Store.Devices;

namespace Outpost.Store.Feed;

/// <summary><c>GET /api/feed</c>: one Server-Sent Events stream per device, with the channels its role needs.</summary>
public static class FeedEndpoint
{
    /// <summary>Maps the feed.</summary>
    public static IEndpointRouteBuilder MapStoreFeed(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/feed", (HttpContext http, ClaimsPrincipal user, StoreFeed feed, StoreServices services, IHostApplicationLifetime lifetime) =>
        {
            // A device revoked while its feed is open loses the feed at once.
            var revoked = services.Devices.UntilRevoked(user.DeviceId());
            var resume = http.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header ? header : http.Request.Query["lastEventId"].ToString();
            long? after = long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : null;
            return TypedResults.ServerSentEvents(StreamAsync(feed, after, StoreFeed.ChannelsFor(user.Role()), http.RequestAborted, lifetime.ApplicationStopping, revoked));
        }).WithTags("Live feed").Produces<string>(StatusCodes.Status200OK, "text/event-stream").Roles([.. DeviceRoles.All])
            .WithSummary("The device's live feed as Server-Sent Events (what its role follows: prices, orders, availability, connectivity); resumes after Last-Event-ID.");
        return app;
    }

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(StoreFeed feed, long? after, IReadOnlyList<string> channels, CancellationToken aborted, CancellationToken stopping,
        CancellationToken revoked, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var first = true;
        await foreach (var message in LiveStream.UntilEnded(token => feed.SubscribeAsync(after, channels, token), aborted, stopping, revoked, cancellationToken))
        {
            yield return new SseItem<string>(message.Json, message.Channel)
            {
                EventId = message.Seq.ToString(CultureInfo.InvariantCulture),
                ReconnectionInterval = first ? TimeSpan.FromSeconds(1) : null,
            };
            first = false;
        }
    }
}
