using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Core.Log;
using Outpost.Store.Devices;
using static Outpost.Store.Devices.DeviceRoles;

namespace Outpost.Store.Services;

/// <summary>A registered event type of a service.</summary>
/// <param name="Topic">Its topic.</param>
/// <param name="Type">The type.</param>
/// <param name="Version">Its version.</param>
/// <param name="Href">Where its schema is served.</param>
public sealed record RegisteredContract(string Topic, string Type, int Version, string Href);

/// <summary>Enrolling a service from the back office.</summary>
/// <param name="Name">Its name (1-64 characters), as the back office and HQ show it.</param>
/// <param name="Publish">Topics it may publish to.</param>
/// <param name="Read">Topics it may read.</param>
public sealed record ServiceRequest(string? Name, IReadOnlyList<string>? Publish, IReadOnlyList<string>? Read);

/// <summary>A service as the back office lists it.</summary>
/// <param name="Id">Its id (a device id).</param>
/// <param name="Name">Its name.</param>
/// <param name="Revoked">Whether its credential was revoked.</param>
/// <param name="Publish">Topics it may publish to.</param>
/// <param name="Read">Topics it may read.</param>
/// <param name="LastSeen">Its last request, as its heartbeat said.</param>
public sealed record ServiceView(string Id, string Name, bool Revoked, IReadOnlyList<string> Publish, IReadOnlyList<string> Read, DateTimeOffset? LastSeen);

/// <summary>
/// The store's event API for other teams' and vendors' services: the back office enrols a service with a grant
/// (<c>POST /api/services</c>, the token shown once); the service publishes with it (<c>POST /api/events</c>),
/// idempotently by its producer's sequence. docs/services.md has the whole of it.
/// </summary>
public static class EventApi
{
    /// <summary>Maps the endpoints under the store's <c>/api</c> group.</summary>
    public static void Map(RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var services = api.MapGroup("/services").WithTags("Services");
        services.MapPost("", async (ServiceRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            var enrolled = await s.Grants.EnrolAsync(body?.Name ?? "", body?.Publish, body?.Read, user.DeviceId(), ct);
            return TypedResults.Created($"/api/services/{enrolled.Device.Id}", enrolled);
        }).Roles(BackOffice).WithSummary("Enrols a service with the topics it may publish to and read; its token is in the answer, once.");
        services.MapGet("", (StoreServices s) => TypedResults.Ok<IReadOnlyList<ServiceView>>([.. s.Grants.List().Select(x =>
                new ServiceView(x.Service.Device.Id, x.Service.Device.Name, x.Service.Device.Revoked, x.Grant.Publish, x.Grant.Read, x.Service.LastSeen))]))
            .Roles(BackOffice).WithSummary("The enrolled services and their grants.");

        api.MapPut("/contracts/{topic}/{type}/{version:int}", RegisterAsync).WithTags("Services").Roles(Service)
            .WithSummary("Registers the JSON Schema of one of the service's own event types, at a version, on a topic it may publish to; a version never changes.");
        api.MapPost("/events", PublishAsync).WithTags("Services").Roles(Service)
            .WithSummary("Appends a service's events, idempotently by its producer's sequence; answers once they are durable.");

        var subscriptions = api.MapGroup("/subscriptions/{name}").WithTags("Services");
        subscriptions.MapGet("/events", SubscribeAsync).Roles(Service).Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .WithSummary("Streams the subscription's events after its checkpoint as Server-Sent Events (id: position, event: type, data: the envelope), then each new one.");
        subscriptions.MapPost("/ack", AcknowledgeAsync).Roles(Service)
            .WithSummary("Acknowledges the subscription's events up to a position: they are never delivered to it again.");
        subscriptions.MapGet("", StateAsync).Roles(Service)
            .WithSummary("Where the subscription stands: its checkpoint, the log's head, the first position its topics can still be read from.");
    }

    private static async Task<IResult> SubscribeAsync(string name, string? topics, string? types, string? from, ClaimsPrincipal user, StoreServices s, HttpContext http)
    {
        var service = user.DeviceId();
        var (read, refused) = Topics(name, topics, s.Grants.Of(service));
        if (refused is not null)
        {
            return refused;
        }

        if (from is not (null or "earliest" or "latest"))
        {
            return TypedResults.Problem($"'from' is 'earliest' (the default: everything the store still holds) or 'latest' (from now on), not '{from}'; it applies to a new subscription only.",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");
        }

        var checkpoint = await s.Subscriptions.CheckpointAsync(service, name, from == "latest", http.RequestAborted);
        var first = await s.Subscriptions.FirstReadableAsync(read!, http.RequestAborted);
        if (first > checkpoint + 1)
        {
            return Gone(name, checkpoint, first);
        }

        var filter = new ReadFilter { Topics = read!, Types = string.IsNullOrWhiteSpace(types) ? null : [.. types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] };
        return TypedResults.ServerSentEvents(Feed.LiveStream.UntilEnded(token => s.Subscriptions.StreamAsync(checkpoint, filter, read!, token), http.RequestAborted,
            http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping, s.Devices.UntilRevoked(service)));
    }

    private static async Task<Results<Ok<SubscriptionState>, ProblemHttpResult>> AcknowledgeAsync(string name, AckRequest body, ClaimsPrincipal user, StoreServices s, IEventLog log, CancellationToken ct)
    {
        var service = user.DeviceId();
        if (!Subscriptions.IsName(name))
        {
            return BadName(name);
        }

        var acknowledged = await s.Subscriptions.AcknowledgeAsync(service, name, body?.Position ?? -1, ct);
        var grant = s.Grants.Of(service);
        return TypedResults.Ok(new SubscriptionState(name, acknowledged, log.Head, await s.Subscriptions.FirstReadableAsync(grant.Read, ct)));
    }

    private static async Task<Results<Ok<SubscriptionState>, ProblemHttpResult>> StateAsync(string name, string? topics, ClaimsPrincipal user, StoreServices s, IEventLog log, CancellationToken ct)
    {
        var service = user.DeviceId();
        var (read, problem) = Topics(name, topics, s.Grants.Of(service));
        if (problem is not null)
        {
            return problem;
        }

        var acknowledged = await log.GetCursorAsync(Subscriptions.Cursor(service, name), ct) ?? 0;
        return TypedResults.Ok(new SubscriptionState(name, acknowledged, log.Head, await s.Subscriptions.FirstReadableAsync(read!, ct)));
    }

    /// <summary>The topics a subscription reads: those asked for, each of which the grant must allow; all the grant allows when none are.</summary>
    private static (IReadOnlyList<string>? Topics, ProblemHttpResult? Problem) Topics(string name, string? asked, ServiceGrant grant)
    {
        if (!Subscriptions.IsName(name))
        {
            return (null, BadName(name));
        }

        var topics = string.IsNullOrWhiteSpace(asked) ? grant.Read : [.. asked.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
        if (topics.Count == 0)
        {
            return (null, TypedResults.Problem("This service's grant names no topic to read.", statusCode: StatusCodes.Status403Forbidden, title: "Topic not granted"));
        }

        var refused = topics.FirstOrDefault(t => !grant.Read.Contains(t));
        return refused is null
            ? (topics, null)
            : (null, TypedResults.Problem($"This service may not read '{refused}'" + (grant.Read.Count == 0 ? "; its grant names no topic to read." : $"; it may read {string.Join(", ", grant.Read)}."),
                statusCode: StatusCodes.Status403Forbidden, title: "Topic not granted"));
    }

    private static ProblemHttpResult BadName(string name) => TypedResults.Problem(
        $"'{name}' is not a subscription name: 1-64 lower-case letters, digits, '.', '-' or '_'.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");

    private static ProblemHttpResult Gone(string name, long checkpoint, long first) => TypedResults.Problem(
        $"Subscription '{name}' acknowledged position {checkpoint}, and the store's retention has since removed events of its topics up to {first - 1}: it cannot be delivered everything after its checkpoint. " +
        $"The first position it can still read is {first}. To go on from there, knowing events were missed, acknowledge position {first - 1}.",
        statusCode: StatusCodes.Status410Gone, title: "Behind the store's retention",
        extensions: new Dictionary<string, object?> { ["firstReadable"] = first, ["acknowledged"] = checkpoint });

    private static async Task<Results<Ok<PublishResult>, ProblemHttpResult>> PublishAsync(PublishRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct)
    {
        var service = user.DeviceId();
        try
        {
            return TypedResults.Ok(await s.Publisher.PublishAsync(service, s.Grants.Of(service), body, ct));
        }
        catch (ServiceRefusedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: ex.Status, title: ex.Title,
                extensions: ex.Errors.Count == 0 ? null : new Dictionary<string, object?> { ["errors"] = ex.Errors.ToList() });
        }
    }

    private static async Task<Results<Created<RegisteredContract>, Ok<RegisteredContract>, ProblemHttpResult>> RegisterAsync(string topic, string type, int version, JsonElement schema,
        ClaimsPrincipal user, StoreServices s, CancellationToken ct)
    {
        var service = user.DeviceId();
        try
        {
            var done = await s.Contracts.RegisterAsync(service, s.Grants.Of(service), topic, type, version, schema, ct);
            var answer = new RegisteredContract(topic, type, version, Outpost.Sync.Hosting.ContractEndpoints.Href(s.Contracts.Current.Find(topic, type, version)!));
            return done == Registered.Added ? TypedResults.Created(answer.Href, answer) : TypedResults.Ok(answer);
        }
        catch (ServiceRefusedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: ex.Status, title: ex.Title);
        }
    }
}
