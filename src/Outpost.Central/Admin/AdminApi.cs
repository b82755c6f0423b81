using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Central.Fleet;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Central.Admin;

/// <summary>Registering a store.</summary>
/// <param name="StoreId">The store's id.</param>
/// <param name="Region">Its region.</param>
public sealed record RegisterStore(string StoreId, string Region);

/// <summary>An event HQ publishes (master data: a price, a product, a configuration).</summary>
/// <param name="Topic">The topic, usually a down topic.</param>
/// <param name="Type">The event type.</param>
/// <param name="Key">The entity key.</param>
/// <param name="Scope"><c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.</param>
/// <param name="Payload">The JSON payload.</param>
/// <param name="Version">The type's schema version.</param>
public sealed record PublishEvent(string Topic, string Type, string Key, string Scope, JsonElement Payload, int Version = 1);

/// <summary>Where a published event landed.</summary>
/// <param name="Seq">Its sequence in HQ's log.</param>
public sealed record Published(long Seq);

/// <summary>HQ's administration endpoints: stores and credentials, publishing master data, the fleet.</summary>
public static class AdminApi
{
    /// <summary>Maps the endpoints under the group it is given (for example <c>/admin</c>); every one needs the admin token.</summary>
    public static RouteGroupBuilder MapAdminApi(this RouteGroupBuilder group, string? adminToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            if (adminToken is null || header != "Bearer " + adminToken)
            {
                return TypedResults.Problem("Send 'Authorization: Bearer <admin token>' (the token HQ was started with).", statusCode: StatusCodes.Status401Unauthorized, title: "Admin token required");
            }

            return await next(context);
        });
        group.MapPost("/stores", RegisterAsync);
        group.MapGet("/stores", async (StoreDirectory stores, CancellationToken cancellationToken) => TypedResults.Ok(await stores.ListAsync(cancellationToken)));
        group.MapPost("/stores/{storeId}/rotate", RotateAsync);
        group.MapPost("/stores/{storeId}/revoke", RevokeAsync);
        group.MapPost("/events", PublishAsync);
        group.MapGet("/fleet", (FleetTracker fleet) => TypedResults.Ok(fleet.Links));
        return group;
    }

    private static async Task<Results<Created<IssuedCredential>, ProblemHttpResult>> RegisterAsync(RegisterStore request, StoreDirectory stores, CancellationToken cancellationToken)
    {
        try
        {
            var issued = await stores.RegisterAsync(request.StoreId, request.Region, cancellationToken);
            return TypedResults.Created($"/admin/stores/{issued.StoreId}", issued);
        }
        catch (ArgumentException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid store");
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict, title: "Store exists");
        }
    }

    private static async Task<Results<Ok<IssuedCredential>, NotFound>> RotateAsync(string storeId, StoreDirectory stores, CancellationToken cancellationToken) =>
        await stores.RotateAsync(storeId, cancellationToken) is { } issued ? TypedResults.Ok(issued) : TypedResults.NotFound();

    private static async Task<Results<NoContent, NotFound>> RevokeAsync(string storeId, StoreDirectory stores, CancellationToken cancellationToken) =>
        await stores.RevokeAsync(storeId, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<Results<Created<Published>, ProblemHttpResult>> PublishAsync(PublishEvent request, IEventLog log, CancellationToken cancellationToken)
    {
        if (!Scope.TryParse(request.Scope, out var scope))
        {
            return TypedResults.Problem($"Scope '{request.Scope}' is not of a known form: use '*', 'region:<id>' or 'store:<id>'.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid scope");
        }

        try
        {
            var result = await log.AppendAsync(new NewEvent
            {
                Topic = request.Topic,
                Type = request.Type,
                Version = request.Version,
                Key = request.Key,
                Scope = scope,
                Payload = JsonSerializer.SerializeToUtf8Bytes(request.Payload, AdminJsonContext.Default.JsonElement),
            }, cancellationToken);
            return TypedResults.Created($"/admin/events/{result.Seq}", new Published(result.Seq));
        }
        catch (InvalidEventException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid event");
        }
    }
}

/// <summary>Source-generated JSON for the admin API.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RegisterStore))]
[JsonSerializable(typeof(PublishEvent))]
[JsonSerializable(typeof(Published))]
[JsonSerializable(typeof(IssuedCredential))]
[JsonSerializable(typeof(IReadOnlyList<StoreRecord>))]
[JsonSerializable(typeof(IReadOnlyList<StoreLink>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
