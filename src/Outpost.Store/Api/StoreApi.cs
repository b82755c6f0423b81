using System.Security.Claims;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Orders;
using Outpost.Store.Devices;
using Outpost.Sync.Agent;
using static Outpost.Store.Devices.DeviceRoles;

namespace Outpost.Store.Api;

/// <summary>The device endpoints, grouped per bounded context, each naming the roles it accepts.</summary>
public static class StoreApi
{
    /// <summary>Maps every device endpoint under <c>/api</c>.</summary>
    public static IEndpointRouteBuilder MapStoreApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.AddEndpointFilter(Errors);
        MapCatalog(api.MapGroup("/products").WithTags("Catalog and price check"));
        MapCheckout(api.MapGroup("/baskets").WithTags("Checkout"));
        api.MapPost("/returns", ReturnAsync).WithTags("Checkout").Produces<ReturnReceipt>().Roles(Till, BackOffice);
        MapOrders(api.MapGroup("/orders").WithTags("Orders"));
        api.MapGet("/menu", async (StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Menu.MenuAsync(ct))).WithTags("Orders").Roles([.. All]);
        MapInventory(api.MapGroup("/stock").WithTags("Inventory"));
        MapCampaigns(api.MapGroup("/campaigns").WithTags("Store campaigns"));
        MapDevices(api.MapGroup("/devices").WithTags("Devices"));
        PairingApi.Map(api);
        Services.EventApi.Map(api);
        // The topic is read through (it keeps a month, and alarms are few) and folded by key.
        api.MapGet("/alarms", async (IEventLog log, CancellationToken ct) =>
                TypedResults.Ok(Outpost.Retail.Alarms.AlarmEvents.Open(await log.ReadAllAsync(ReadFilter.ForTopics(Outpost.Retail.Alarms.AlarmEvents.Topic), cancellationToken: ct))))
            .WithTags("Equipment").Roles(BackOffice)
            .WithSummary("The alarms services raised and have not cleared (a fridge too warm for too long), oldest first.");
        api.MapGet("/equipment/bridge", async (Equipment.MqttBridge bridge, CancellationToken ct) => TypedResults.Ok(await bridge.StatusAsync(ct)))
            .WithTags("Equipment").Roles(BackOffice)
            .WithSummary("The MQTT bridge for in-store equipment: connected or not, messages recorded, repeats recognised, messages parked and why, events sent out.");
        api.MapGet("/labels", async (bool? reprint, StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Labels.LabelsAsync(reprint == true, ct)))
            .WithTags("Labels").Roles(BackOffice, Handheld);
        api.MapPost("/labels/printed", async (IReadOnlyList<PrintedLabel> body, StoreServices s, CancellationToken ct) =>
        {
            await s.Retail.Labels.MarkPrintedAsync([.. (body ?? []).Select(l => (Required(l.Gtin, "gtin"), l.Price))], ct);
            return TypedResults.NoContent();
        }).WithTags("Labels").Roles(BackOffice, Handheld);
        api.MapPost("/gate/enter", async (GateEnterRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
            TypedResults.Ok(await s.Retail.Gate.EnterAsync(user.DeviceId(), Required(body?.Code, "code"), ct))).WithTags("Walk-out gate").Roles(Handheld, BackOffice);
        api.MapPost("/gate/exit", async (GateExitRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
            await s.Retail.Gate.ExitAsync(user.DeviceId(), Required(body?.VisitId, "visitId"), [.. (body!.Items ?? []).Select(i => (Required(i.Code, "items[].code"), i.Quantity))], ct) is { } sale
                ? Results.Ok(sale)
                : Results.NoContent()).WithTags("Walk-out gate").Produces<SaleReceipt>().Produces(StatusCodes.Status204NoContent).Roles(Handheld, BackOffice);
        api.MapGet("/connectivity", (ConnectivityMonitor monitor) => TypedResults.Ok(monitor.Current)).WithTags("Connectivity").Roles(BackOffice);
        return app;
    }

    private static void MapCatalog(RouteGroupBuilder group)
    {
        group.Roles([.. All]);
        group.MapGet("/{code}", async (string code, StoreServices s, TimeProvider time, CancellationToken ct) =>
            await LabelAsync(s, code, time, ct) is { } label ? Results.Ok(label) : NotFound($"The store does not sell {code}, or has no price for it now."))
            .Produces<ProductLabel>();
        group.MapGet("/", async (string? q, StoreServices s, TimeProvider time, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(q) || q.Length > 64)
            {
                return Invalid("Search with ?q= and 1 to 64 characters of the product's name.");
            }

            var labels = new List<ProductLabel>();
            foreach (var product in await s.Retail.Catalog.SearchAsync(q, 20, ct))
            {
                if (await LabelAsync(s, product.Gtin.Value, time, ct) is { } label)
                {
                    labels.Add(label);
                }
            }

            return Results.Ok(labels);
        }).Produces<List<ProductLabel>>();
    }

    private static void MapCheckout(RouteGroupBuilder group)
    {
        group.Roles(Till, BackOffice);
        group.MapPost("/", async (OpenBasketRequest? body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            var basket = await s.Retail.Checkout.OpenAsync(user.DeviceId(), body?.StaffId, ct);
            return TypedResults.Created($"/api/baskets/{basket.Id}", basket);
        });
        group.MapGet("/", async (ClaimsPrincipal user, StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Checkout.OpenBasketsAsync(user.DeviceId(), ct)));
        group.MapGet("/{id}", async (string id, StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Checkout.GetAsync(id, ct)));
        group.MapPost("/{id}/lines", async (string id, AddLineRequest body, StoreServices s, CancellationToken ct) =>
            TypedResults.Ok(await s.Retail.Checkout.AddAsync(id, Required(body?.Code, "code"), body!.Quantity, ct)));
        group.MapPut("/{id}/lines/{no:int}", async (string id, int no, QuantityRequest body, StoreServices s, CancellationToken ct) =>
            TypedResults.Ok(await s.Retail.Checkout.SetQuantityAsync(id, no, body.Quantity, ct)));
        group.MapDelete("/{id}/lines/{no:int}", async (string id, int no, StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Checkout.VoidLineAsync(id, no, ct)));
        group.MapPost("/{id}/member", async (string id, MemberRequest body, StoreServices s, CancellationToken ct) =>
            TypedResults.Ok(await s.Retail.Checkout.IdentifyMemberAsync(id, Required(body?.Code, "code"), ct)));
        group.MapPost("/{id}/payments", async (string id, PaymentRequestBody body, StoreServices s, CancellationToken ct) => TypedResults.Ok(body?.Method switch
        {
            "cash" => await s.Retail.Checkout.PayCashAsync(id, body.Amount ?? throw new RetailException(RetailProblem.Invalid, "A cash payment needs 'amount': what the customer hands over."), ct),
            "card" => await s.Retail.Checkout.PayCardAsync(id, body.Amount, ct),
            "points" => await s.Retail.Checkout.PayPointsAsync(id, body.Points ?? throw new RetailException(RetailProblem.Invalid, "A points payment needs 'points'."), ct),
            _ => throw new RetailException(RetailProblem.Invalid, $"'{body?.Method}' is not a payment method: cash, card or points."),
        }));
        group.MapPost("/{id}/complete", async (string id, CompleteRequest body, StoreServices s, CancellationToken ct) =>
            TypedResults.Ok(await s.Retail.Checkout.CompleteAsync(id, Required(body?.IdempotencyKey, "idempotencyKey"), ct)));
        group.MapPost("/{id}/void", async (string id, VoidRequest body, StoreServices s, CancellationToken ct) =>
            TypedResults.Ok(await s.Retail.Checkout.VoidAsync(id, Required(body?.StaffId, "staffId"), Required(body!.Reason, "reason"), ct)));
    }

    private static async Task<IResult> ReturnAsync(ReturnRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct)
    {
        var checkout = s.Retail.Checkout;
        if (body.SaleId is { } saleId)
        {
            var lines = (body.Lines ?? []).Select(l => (l.LineNo, l.Quantity)).ToList();
            return Results.Ok(await checkout.ReturnAsync(user.DeviceId(), Required(body.StaffId, "staffId"), saleId, lines, Required(body.Reason, "reason"), body.ToCard, ct));
        }

        var items = (body.Items ?? []).Select(i => (Required(i.Code, "items[].code"), i.Quantity)).ToList();
        return Results.Ok(await checkout.ReturnWithoutReceiptAsync(user.DeviceId(), Required(body.StaffId, "staffId"), items, Required(body.Reason, "reason"), ct));
    }

    private static void MapOrders(RouteGroupBuilder group)
    {
        group.MapPost("/", async (PlaceOrderRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            var source = body.Source ?? (user.Role() == Kiosk ? "kiosk" : "till");
            var order = await s.Retail.Orders.PlaceAsync(source, user.DeviceId(), body.CustomerName, body.Lines ?? [], body.IdempotencyKey, ct);
            return TypedResults.Created($"/api/orders/{order.Order.OrderId}", order);
        }).Roles(Kiosk, Till, BackOffice);
        group.MapGet("/", async (string? status, StoreServices s, CancellationToken ct) =>
        {
            var statuses = (status ?? "placed,preparing,ready").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return TypedResults.Ok(await s.Retail.Orders.ListAsync(statuses, ct));
        }).Roles(Till, Kiosk, Kitchen, Signage, BackOffice);
        group.MapGet("/{id}", async (string id, StoreServices s, CancellationToken ct) =>
            await s.Retail.Orders.GetAsync(id, ct) is { } order ? Results.Ok(order) : NotFound($"No order {id} in this store.")).Produces<OrderView>().Roles(Till, Kiosk, Kitchen, Signage, BackOffice);
        group.MapPost("/{id}/status", async (string id, OrderStatusRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            var status = Required(body?.Status, "status");
            var allowed = user.Role() switch
            {
                Kitchen => status is OrderStatus.Preparing or OrderStatus.Ready,
                Till => status is OrderStatus.Collected or OrderStatus.Cancelled or OrderStatus.Ready,
                _ => true,
            };
            return allowed
                ? Results.Ok(await s.Retail.Orders.MoveAsync(id, status, user.DeviceId(), ct))
                : Results.Problem($"A {user.Role()} device cannot mark an order '{status}'.", statusCode: StatusCodes.Status403Forbidden, title: "Wrong role");
        }).Produces<OrderView>().Roles(Kitchen, Till, BackOffice);
    }

    private static void MapInventory(RouteGroupBuilder group)
    {
        group.MapPost("/counts", async (StockCountRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            await s.Retail.Inventory.CountAsync(Required(body?.Gtin, "gtin"), body!.Quantity, user.DeviceId(), ct);
            return TypedResults.NoContent();
        }).Roles(Handheld, BackOffice);
        group.MapPost("/availability", async (AvailabilityRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            await s.Retail.Inventory.MarkAsync(Required(body?.Kind, "kind"), Required(body!.Id, "id"), body.Available, user.DeviceId(), ct);
            return TypedResults.NoContent();
        }).Roles(Handheld, Kitchen, BackOffice);
        group.MapGet("/unavailable", async (StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Inventory.UnavailableAsync(ct))).Roles([.. All]);
        group.MapGet("/{gtin}/nearby", async (string gtin, StoreServices s, CancellationToken ct) => TypedResults.Ok(await s.Retail.Inventory.NearbyAsync(gtin, ct)))
            .Roles(Till, Handheld, Kiosk, BackOffice);
    }

    private static void MapCampaigns(RouteGroupBuilder group)
    {
        group.Roles(BackOffice);
        group.MapPost("/prices", async (CampaignPriceRequest body, StoreServices s, CancellationToken ct) =>
        {
            await s.Retail.Campaigns.SetPriceAsync(Required(body?.Id, "id"), Required(body!.Gtin, "gtin"), body.Amount, body.From, body.To, Required(body.CreatedBy, "createdBy"), ct);
            return TypedResults.Created($"/api/campaigns/{body.Id}", body);
        });
        group.MapPost("/promotions", async (CampaignPromotionRequest body, StoreServices s, CancellationToken ct) =>
        {
            await s.Retail.Campaigns.SetPromotionAsync(Required(body?.Id, "id"), body!.Promotion ?? throw new RetailException(RetailProblem.Invalid, "Give the campaign's 'promotion'."),
                body.From, body.To, Required(body.CreatedBy, "createdBy"), ct);
            return TypedResults.Created($"/api/campaigns/{body.Id}", body);
        });
    }

    private static void MapDevices(RouteGroupBuilder group)
    {
        group.MapPost("/", async (EnrolRequest body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            var enrolled = await s.Devices.EnrolAsync(Required(body?.Name, "name"), Required(body!.Role, "role"), user.DeviceId(), ct);
            return TypedResults.Created($"/api/devices/{enrolled.Device.Id}", enrolled);
        }).Roles(BackOffice);
        group.MapGet("/", (StoreServices s) => TypedResults.Ok(s.Devices.List())).Roles(BackOffice);
        group.MapDelete("/{id}", async (string id, ClaimsPrincipal user, HttpContext http, StoreServices s, CancellationToken ct) =>
        {
            if (!await s.Devices.RevokeAsync(id, ct))
            {
                return NotFound($"No device {id}.");
            }

            await s.Pairing.AuditAsync("DeviceRevoked", http.Connection.RemoteIpAddress?.ToString(), id, user.DeviceId(), "revoked in the back office; its credential and live feed end at once", ct);
            return Results.NoContent();
        }).Produces(StatusCodes.Status204NoContent).Roles(BackOffice);
        group.MapPost("/heartbeat", async (HeartbeatRequest? body, ClaimsPrincipal user, StoreServices s, CancellationToken ct) =>
        {
            if (body?.AppVersion is { Length: > 64 })
            {
                return Invalid("An app version is at most 64 characters.");
            }

            await s.Devices.HeartbeatAsync(user.DeviceId(), user.Role(), body?.AppVersion, ct);
            return Results.NoContent();
        }).Produces(StatusCodes.Status204NoContent).Roles([.. All, Service]);
    }

    private static async Task<ProductLabel?> LabelAsync(StoreServices s, string code, TimeProvider time, CancellationToken ct)
    {
        var retail = s.Retail;
        if (await retail.Pricing.LabelAsync(code, await retail.Promotions.GetAsync(ct), time.GetUtcNow(), ct) is not { } label)
        {
            return null;
        }

        var product = label.Product;
        var unavailable = await retail.Inventory.UnavailableAsync(ct);
        return new ProductLabel(product.Gtin.Value, product.Name, product.Category, product.Unit == SaleUnit.Kilogram ? "kg" : "each", label.Shelf.Price.Amount, label.Price.Amount,
            label.Price.Currency.Code, label.Shelf.SourceName, [.. label.Promotions.Select(p => p.Name)], !unavailable.Products.Contains(product.Gtin.Value));
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new RetailException(RetailProblem.Invalid, $"'{field}' is required.") : value;

    private static IResult NotFound(string detail) => Results.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static IResult Invalid(string detail) => Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");

    /// <summary>Turns the domain's refusals into 4xx answers that say what is wrong; nothing was changed by them.</summary>
    private static async ValueTask<object?> Errors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (RetailException ex)
        {
            var (status, title) = ex.Problem switch
            {
                RetailProblem.NotFound => (StatusCodes.Status404NotFound, "Not found"),
                RetailProblem.Conflict => (StatusCodes.Status409Conflict, "Not now"),
                RetailProblem.Refused => (StatusCodes.Status422UnprocessableEntity, "Refused"),
                _ => (StatusCodes.Status400BadRequest, "Invalid request"),
            };
            return Results.Problem(ex.Message, statusCode: status, title: title);
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(ex.Message.Split(" (Parameter", 2)[0], statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");
        }
    }
}
