using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outpost.Central.Fleet;
using Outpost.Central.Ingest;
using Outpost.Central.MasterData;
using Outpost.Central.Stores;
using Outpost.Core.Contracts;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;

namespace Outpost.Central.Admin;

/// <summary>Registering a store.</summary>
/// <param name="StoreId">The store's id.</param>
/// <param name="Region">Its region.</param>
/// <param name="Latitude">Where it is (with <paramref name="Longitude"/>), for "nearest store with stock".</param>
/// <param name="Longitude">Where it is.</param>
public sealed record RegisterStore(string StoreId, string Region, double? Latitude = null, double? Longitude = null);

/// <summary>A product's stock at another store, for "which store near me has it".</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Region">Its region.</param>
/// <param name="Quantity">On hand, as HQ last heard.</param>
/// <param name="AsOf">When that figure was last changed at the store.</param>
/// <param name="DistanceKm">Distance from the asking store, when both locations are known.</param>
public sealed record StockElsewhere(string StoreId, string Region, decimal Quantity, DateTimeOffset AsOf, double? DistanceKm);

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
    public static RouteGroupBuilder MapAdminApi(this RouteGroupBuilder group, string? adminToken) =>
        MapAdminApi(group, adminToken is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["admin"] = adminToken });

    /// <summary>
    /// Maps the endpoints; every one needs one of the named admin tokens (<c>Authorization: Bearer &lt;token&gt;</c>), and
    /// the token's name is who the audit trail says made the change.
    /// </summary>
    public static RouteGroupBuilder MapAdminApi(this RouteGroupBuilder group, IReadOnlyDictionary<string, string> adminTokens)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(adminTokens);
        var tokens = adminTokens.Select(t => (Name: t.Key, Hash: System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(t.Value)))).ToList();
        group.AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(header[7..])) : null;
            var actor = presented is null ? null : tokens.FirstOrDefault(t => System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(t.Hash, presented)).Name;
            if (actor is null)
            {
                return TypedResults.Problem(tokens.Count == 0 ? "This HQ was started without an admin token, so its admin API refuses everything." : "Send 'Authorization: Bearer <admin token>' (a token HQ was started with).",
                    statusCode: StatusCodes.Status401Unauthorized, title: "Admin token required");
            }

            context.HttpContext.Items[MasterData.MasterDataApi.ActorItem] = actor;
            return await next(context);
        });
        group.MapPost("/stores", RegisterAsync);
        group.MapGet("/stores", async (StoreDirectory stores, CancellationToken cancellationToken) => TypedResults.Ok(await stores.ListAsync(cancellationToken)));
        group.MapPost("/stores/{storeId}/rotate", RotateAsync);
        group.MapPost("/stores/{storeId}/revoke", RevokeAsync);
        group.MapPost("/events", PublishAsync);
        group.MapGet("/fleet", FleetAsync);
        group.MapGet("/devices", DevicesAsync);
        group.MapGet("/stores/{storeId}/health", StoreHealthAsync);
        group.MapGet("/stores/{storeId}/logs", StoreLogsAsync);
        group.MapGet("/tls", (Security.HqTlsState tls) => TypedResults.Ok(tls.Status()));
        group.MapGet("/alarms", async (IEventLog log, CancellationToken cancellationToken) => TypedResults.Ok(await FleetAlarms.OpenAsync(log, cancellationToken)));
        group.MapGet("/parked", async (IEventLog log, CancellationToken cancellationToken) => TypedResults.Ok(await ParkedEvents.ReadAsync(log, cancellationToken)));
        group.MapMasterData();
        group.MapGet("/sales", SalesAsync);
        group.MapGet("/stock/{gtin}", StockAsync);
        group.MapGet("/campaigns", async (string? store, IEventLog log, HqReadModels models, CancellationToken cancellationToken) =>
        {
            await models.EnsureCreatedAsync(cancellationToken);
            return TypedResults.Ok(await CampaignList.ListAsync(log, store, cancellationToken));
        });
        return group;
    }

    private static async Task<Ok<IReadOnlyList<StoreHealth>>> FleetAsync(FleetHealth fleet, IEventLog log, HqReadModels models, IOptions<AlertOptions> alerts, TimeProvider time,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await FleetFigures.ListAsync(fleet, log, models, time.GetUtcNow(), alerts.Value.DeviceOfflineAfter, withLogs: true, cancellationToken));

    /// <summary>A store's latest warnings and errors, newest first (<c>?limit=</c>, 1 to 100, 20 by default).</summary>
    private static async Task<Results<Ok<IReadOnlyList<StoreLogEntry>>, ProblemHttpResult>> StoreLogsAsync(string storeId, string? limit, IEventLog log, HqReadModels models,
        CancellationToken cancellationToken)
    {
        int count;
        try
        {
            count = Whole(limit, "limit", 20);
        }
        catch (ArgumentException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query");
        }

        if (count is < 1 or > StoreLogs.KeptPerStore)
        {
            return TypedResults.Problem($"'limit' is 1 to {StoreLogs.KeptPerStore} (HQ keeps a store's newest {StoreLogs.KeptPerStore}), not {count}.",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid query");
        }

        await models.EnsureCreatedAsync(cancellationToken);
        return TypedResults.Ok(await StoreLogs.LatestAsync(log, storeId, count, cancellationToken));
    }

    /// <summary>A store's latest health report, whole.</summary>
    private static async Task<Results<Ok<Outpost.Retail.Telemetry.StoreHealthReportedV1>, ProblemHttpResult>> StoreHealthAsync(string storeId, IEventLog log, HqReadModels models,
        CancellationToken cancellationToken)
    {
        await models.EnsureCreatedAsync(cancellationToken);
        return await StoreHealthReports.ForStoreAsync(log, storeId, cancellationToken) is { } report
            ? TypedResults.Ok(report)
            : TypedResults.Problem($"HQ has no health report from store '{storeId}' (an unknown store, or one that has not reported since it started on this version).",
                statusCode: StatusCodes.Status404NotFound, title: "No health report");
    }

    /// <summary>A page of the fleet's devices: <c>?store=&amp;region=&amp;q=&amp;role=&amp;state=offline|online&amp;offset=&amp;limit=</c>.</summary>
    private static async Task<Results<Ok<DevicePage>, ProblemHttpResult>> DevicesAsync(string? store, string? region, string? q, string? role, string? state, string? offset, string? limit,
        IEventLog log, HqReadModels models, IOptions<AlertOptions> alerts, TimeProvider time, CancellationToken cancellationToken)
    {
        DeviceQuery query;
        try
        {
            query = FleetDevices.Checked(new DeviceQuery(store, region, q, role, state, Whole(offset, "offset", 0), Whole(limit, "limit", 50)));
        }
        catch (ArgumentException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid device query");
        }

        await models.EnsureCreatedAsync(cancellationToken);
        return TypedResults.Ok(await FleetDevices.PageAsync(log, query, time.GetUtcNow(), alerts.Value.DeviceOfflineAfter, cancellationToken));
    }

    private static int Whole(string? text, string name, int absent) =>
        string.IsNullOrEmpty(text) ? absent
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"'{name}' is a whole number, not '{text}'.");

    private static async Task<Results<Created<IssuedCredential>, ProblemHttpResult>> RegisterAsync(RegisterStore request, StoreDirectory stores, HttpContext context, IEventLog log,
        CancellationToken cancellationToken)
    {
        try
        {
            if (request.Latitude is null != request.Longitude is null)
            {
                return TypedResults.Problem("Give both latitude and longitude, or neither.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid store");
            }

            var location = request.Latitude is { } lat && request.Longitude is { } lon ? new GeoPoint(lat, lon) : null;
            var issued = await stores.RegisterAsync(request.StoreId, request.Region, location, cancellationToken);
            await AuditAsync(context, log, "StoreRegistered", issued.StoreId, cancellationToken);
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

    private static async Task<Results<Ok<IssuedCredential>, NotFound>> RotateAsync(string storeId, StoreDirectory stores, HttpContext context, IEventLog log, CancellationToken cancellationToken)
    {
        if (await stores.RotateAsync(storeId, cancellationToken) is not { } issued)
        {
            return TypedResults.NotFound();
        }

        await AuditAsync(context, log, "CredentialRotated", storeId, cancellationToken);
        return TypedResults.Ok(issued);
    }

    private static async Task<Results<NoContent, NotFound>> RevokeAsync(string storeId, StoreDirectory stores, HttpContext context, IEventLog log, CancellationToken cancellationToken)
    {
        if (!await stores.RevokeAsync(storeId, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        await AuditAsync(context, log, "CredentialRevoked", storeId, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Records a credential change for the audit trail (the store and who did it; never the secret).</summary>
    private static async Task AuditAsync(HttpContext context, IEventLog log, string type, string storeId, CancellationToken cancellationToken) =>
        await log.AppendAsync(new NewEvent
        {
            Topic = MasterData.AuditTrail.AuditTopic,
            Type = type,
            Key = storeId,
            Scope = Scope.Store(storeId),
            Payload = NewEvent.Json(new MasterData.StoreCredentialChangedV1(storeId), MasterData.MasterDataJsonContext.Default.StoreCredentialChangedV1),
            CorrelationId = "admin:" + (context.Items[MasterData.MasterDataApi.ActorItem] as string ?? "admin"),
        }, cancellationToken);

    private static async Task<Results<Ok<IReadOnlyList<StoreDay>>, ProblemHttpResult>> SalesAsync(string? store, string? from, string? to, IEventLog log, HqReadModels models,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (!TryDay(from, today.AddDays(-6), out var first) || !TryDay(to, today.AddDays(1), out var last))
        {
            return TypedResults.Problem("Days are yyyy-MM-dd, for example ?from=2026-11-01&to=2026-11-23 (default: the last seven days).",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid day");
        }

        await models.EnsureCreatedAsync(cancellationToken);
        return TypedResults.Ok(await SalesByDay.QueryAsync(log, store, first, last, cancellationToken));
    }

    /// <summary>A product's stock at other stores: in one region if asked, nearest to the asking store first.</summary>
    private static async Task<Results<Ok<IReadOnlyList<StockElsewhere>>, ProblemHttpResult>> StockAsync(string gtin, string? near, string? region, IEventLog log, HqReadModels models,
        StoreDirectory directory, CancellationToken cancellationToken)
    {
        await models.EnsureCreatedAsync(cancellationToken);
        var stores = (await directory.ListAsync(cancellationToken)).ToDictionary(s => s.StoreId, StringComparer.Ordinal);
        GeoPoint? origin = null;
        if (near is not null)
        {
            if (!stores.TryGetValue(near, out var asking))
            {
                return TypedResults.Problem($"Store '{near}' is not registered.", statusCode: StatusCodes.Status404NotFound, title: "Unknown store");
            }

            origin = asking.Location;
        }

        IReadOnlyList<StockElsewhere> found = [.. (await StockByStore.ForProductAsync(log, gtin, cancellationToken))
            .Where(s => s.StoreId != near && stores.ContainsKey(s.StoreId) && (region is null || stores[s.StoreId].Region == region))
            .Select(s => new StockElsewhere(s.StoreId, stores[s.StoreId].Region, s.Quantity, s.AsOf,
                origin is not null && stores[s.StoreId].Location is { } there ? Math.Round(origin.KilometresTo(there), 1) : null))
            .OrderBy(s => s.DistanceKm ?? double.MaxValue).ThenBy(s => s.StoreId, StringComparer.Ordinal)];
        return TypedResults.Ok(found);
    }

    private static bool TryDay(string? text, DateOnly fallback, out string day)
    {
        var parsed = fallback;
        var ok = text is null || DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out parsed);
        day = parsed.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return ok;
    }

    private static async Task<Results<Created<Published>, ProblemHttpResult>> PublishAsync(PublishEvent request, IEventLog log, ContractCatalog contracts, HttpContext context, CancellationToken cancellationToken)
    {
        if (!Scope.TryParse(request.Scope, out var scope))
        {
            return TypedResults.Problem($"Scope '{request.Scope}' is not of a known form: use '*', 'region:<id>' or 'store:<id>'.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid scope");
        }

        if (Check(request, log.Topics, contracts) is { Count: > 0 } violations)
        {
            return TypedResults.Problem(
                detail: "Nothing was published. " + string.Join(" ", violations.Take(5).Select(v => $"{v.Field}: {v.Message}")),
                statusCode: StatusCodes.Status422UnprocessableEntity, title: "Event refused",
                extensions: new Dictionary<string, object?> { ["errors"] = violations });
        }

        try
        {
            var result = await log.AppendAsync(new NewEvent
            {
                CorrelationId = "admin:" + (context.Items[MasterData.MasterDataApi.ActorItem] as string ?? "admin"),
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

    /// <summary>
    /// What is wrong with an event HQ is asked to publish: a missing field, a topic no policy names or one that does not go
    /// down to the stores, a type or version the topic does not have, a payload that does not match its contract.
    /// </summary>
    internal static List<ContractViolation> Check(PublishEvent request, TopicCatalog topics, ContractCatalog contracts)
    {
        var found = new List<ContractViolation>();
        Required(request.Topic, "topic", found);
        Required(request.Type, "type", found);
        Required(request.Key, "key", found);
        if (request.Payload.ValueKind == JsonValueKind.Undefined)
        {
            found.Add(new ContractViolation("payload", "Required: the event's JSON payload."));
        }

        if (found.Count > 0)
        {
            return found;
        }

        string Down() => string.Join(", ", topics.InDirection(TopicDirection.Down).Select(p => p.Topic));
        if (!topics.IsDeclared(request.Topic))
        {
            return [new ContractViolation("topic", $"No topic policy names '{request.Topic}', so no store would know what to do with it. HQ publishes on {Down()}.")];
        }

        if (topics[request.Topic].Direction != TopicDirection.Down)
        {
            return [new ContractViolation("topic", $"'{request.Topic}' is not sent down to the stores ({topics[request.Topic].Direction}). HQ publishes on {Down()}.")];
        }

        return [.. contracts.Check(request.Topic, request.Type, request.Version, request.Payload)];
    }

    private static void Required(string? value, string field, List<ContractViolation> found)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            found.Add(new ContractViolation(field, "Required."));
        }
    }
}

/// <summary>Source-generated JSON for the admin API.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RegisterStore))]
[JsonSerializable(typeof(Rollouts.ReleaseBody))]
[JsonSerializable(typeof(Rollouts.ReleaseRecordedV1))]
[JsonSerializable(typeof(IReadOnlyList<Rollouts.ReleaseRecordedV1>))]
[JsonSerializable(typeof(Rollouts.RolloutBody))]
[JsonSerializable(typeof(Rollouts.RolloutActionBody))]
[JsonSerializable(typeof(Rollouts.RolloutStartedV1))]
[JsonSerializable(typeof(Rollouts.RolloutChangedV1))]
[JsonSerializable(typeof(Rollouts.RolloutView))]
[JsonSerializable(typeof(IReadOnlyList<Rollouts.RolloutView>))]
[JsonSerializable(typeof(PublishEvent))]
[JsonSerializable(typeof(Published))]
[JsonSerializable(typeof(List<ContractViolation>))]
[JsonSerializable(typeof(IssuedCredential))]
[JsonSerializable(typeof(IReadOnlyList<StoreRecord>))]
[JsonSerializable(typeof(IReadOnlyList<StoreHealth>))]
[JsonSerializable(typeof(ParkedEvents))]
[JsonSerializable(typeof(DevicePage))]
[JsonSerializable(typeof(IReadOnlyList<StoreLogEntry>))]
[JsonSerializable(typeof(Outpost.Retail.Telemetry.StoreHealthReportedV1))]
[JsonSerializable(typeof(IReadOnlyList<StoreDay>))]
[JsonSerializable(typeof(IReadOnlyList<StockElsewhere>))]
[JsonSerializable(typeof(IReadOnlyList<CampaignRecord>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Security.HqTlsStatus))]
[JsonSerializable(typeof(IReadOnlyList<StoreAlarm>))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
