using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Outpost.Store.Api;

/// <summary>
/// The store server's OpenAPI document (<c>/openapi/v1.json</c>) as a contract other teams generate clients from: a
/// title and a version; every operation with an operation id (its own name, or one made of its method and route:
/// <c>POST /api/baskets/{id}/lines</c> is <c>postBasketsByIdLines</c>) and a summary; every device endpoint with the
/// errors every device endpoint may answer and a default for its own, each as <c>application/problem+json</c>
/// (RFC 9457 ProblemDetails).
/// </summary>
public static class StoreOpenApi
{
    /// <summary>
    /// The API's version: the major changes when an endpoint is removed or changes in a way an existing client would
    /// notice; the minor when endpoints or optional fields are added.
    /// </summary>
    public const string Version = "1.1";

    /// <summary>The errors every device endpoint may answer, besides its own.</summary>
    private static readonly (string Status, string Description)[] CommonErrors =
    [
        ("400", "The request is malformed or a field is invalid; nothing was done. The problem's detail says which."),
        ("401", "No credential, or one the store does not know (never paired, or revoked)."),
        ("403", "The device's role may not do this; the detail names the roles that may."),
        ("429", "Requests from this device come faster than the store accepts from one client; Retry-After says when to try again."),
        ("500", "The store server failed; nothing the client sent was at fault."),
        ("default", "Any other error (404 unknown, 409 conflict, 410 gone, 422 refused, 503 unavailable), as problem details saying what and why."),
    ];

    /// <summary>Summaries of the endpoints that do not carry their own (<c>WithSummary</c> at the endpoint wins).</summary>
    private static readonly Dictionary<string, string> Summaries = new(StringComparer.Ordinal)
    {
        ["GET /api/products/{code}"] = "A product's shelf label: name, price now, promotions, availability (by GTIN or a scanned code).",
        ["GET /api/products"] = "Products whose name matches ?q=, with their labels (at most 20).",
        ["POST /api/baskets"] = "Opens a basket at this till.",
        ["GET /api/baskets"] = "The baskets open at this till.",
        ["GET /api/baskets/{id}"] = "A basket, priced: lines, promotions, totals, payments.",
        ["POST /api/baskets/{id}/lines"] = "Adds a scanned item (GTIN, weighed or priced barcode) to a basket.",
        ["PUT /api/baskets/{id}/lines/{no}"] = "Changes a line's quantity.",
        ["DELETE /api/baskets/{id}/lines/{no}"] = "Voids a line.",
        ["POST /api/baskets/{id}/member"] = "Attaches a loyalty member to a basket.",
        ["POST /api/baskets/{id}/payments"] = "Takes a payment (cash, card: approved offline within the floor limit when the payment host is unreachable).",
        ["POST /api/baskets/{id}/complete"] = "Completes the sale, idempotently by its key: the sale is recorded once and the receipt returned.",
        ["POST /api/baskets/{id}/void"] = "Voids a basket with a reason.",
        ["POST /api/returns"] = "Records a return, with the receipt's sale or without it.",
        ["GET /api/menu"] = "The menu as the kiosk and the boards show it: items, prices, availability.",
        ["POST /api/devices/pairings"] = "Creates a pairing code (and QR code) for a new device of a role, valid for a few minutes.",
        ["POST /api/pair"] = "Pairs a device with a code: its credential as a cookie (pages) or in the body (apps).",
        ["POST /api/pair/sign-out"] = "Forgets the page's credential cookie (the device stays enrolled until revoked).",
        ["GET /api/whoami"] = "The calling device: id, name, role and its page.",
        ["GET /api/labels"] = "Shelf labels whose price changed since they were last printed (?reprint=true: all).",
        ["POST /api/labels/printed"] = "Marks labels printed at the prices given.",
        ["POST /api/gate/enter"] = "A customer enters through the walk-out gate with their code.",
        ["POST /api/gate/exit"] = "A customer leaves with the items seen: the sale, or 204 when they took nothing.",
        ["GET /api/connectivity"] = "The link to HQ: state since when, upload backlog, download lag, last error.",
        ["POST /api/orders"] = "Places an order (kiosk or till) for the kitchen.",
        ["GET /api/orders"] = "Orders by status (?status=placed,preparing,ready by default).",
        ["GET /api/orders/{id}"] = "An order and its status.",
        ["POST /api/orders/{id}/status"] = "Moves an order on (preparing, ready, collected, cancelled) as the device's role may.",
        ["POST /api/stock/counts"] = "Records a stock count of a product.",
        ["POST /api/stock/availability"] = "Marks a product or an ingredient out of stock, or back in.",
        ["GET /api/stock/unavailable"] = "The products and ingredients out of stock now.",
        ["GET /api/stock/{gtin}/nearby"] = "Stock of a product at the region's other stores, as HQ last sent it.",
        ["POST /api/campaigns/prices"] = "Sets a store campaign price for a product over a period.",
        ["POST /api/campaigns/promotions"] = "Sets a store campaign promotion over a period.",
        ["POST /api/devices"] = "Enrols a device of a role directly (its token in the answer, once).",
        ["GET /api/devices"] = "The store's devices, their roles and when each was last seen.",
        ["DELETE /api/devices/{id}"] = "Revokes a device: its credential and live feed end at once.",
        ["POST /api/devices/heartbeat"] = "The device says it is alive, with its app version.",
        ["GET /api/deploy/desired"] = "The release HQ wants this store to run, the store's time zone and the agent's last report.",
        ["POST /api/deploy/progress"] = "The deploy agent reports a step of a rollout (sent up to HQ).",
        ["GET /api/deploy/settings"] = "The live settings and their version.",
        ["PUT /api/deploy/settings"] = "Applies a release's settings without a restart.",
        ["GET /api/deploy/health"] = "The store's health as the deploy agent judges a release: log, storage, link, uptime.",
    };

    /// <summary>Registers the document and its transformer.</summary>
    public static IServiceCollection AddStoreOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            Describe(document);
            return Task.CompletedTask;
        }));

    /// <summary>Fills in what the endpoints do not say themselves.</summary>
    internal static void Describe(OpenApiDocument document)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Outpost store server",
            Version = Version,
            Description = "The store server's API for its devices (tills, kiosks, boards, kitchen displays, handhelds, back office) and for "
                + "services at the store (publish, subscribe, contracts). Every error is application/problem+json. docs/store.md, docs/services.md.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey("ProblemDetails"))
        {
            document.Components.Schemas["ProblemDetails"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                    ["title"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Format = "int32" },
                    ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                    ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                },
            };
        }

        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                var verb = method.Method.ToUpperInvariant();
                operation.OperationId ??= OperationId(verb, path);
                if (string.IsNullOrEmpty(operation.Summary) && Summaries.TryGetValue($"{verb} {path}", out var summary))
                {
                    operation.Summary = summary;
                }

                if (!path.StartsWith("/api/", StringComparison.Ordinal))
                {
                    continue;
                }

                operation.Responses ??= [];
                foreach (var (status, description) in CommonErrors)
                {
                    if (!operation.Responses.ContainsKey(status))
                    {
                        operation.Responses[status] = new OpenApiResponse
                        {
                            Description = description,
                            Content = new Dictionary<string, OpenApiMediaType>
                            {
                                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) },
                            },
                        };
                    }
                }
            }
        }
    }

    /// <summary><c>POST /api/baskets/{id}/lines</c> is <c>postBasketsByIdLines</c>.</summary>
    internal static string OperationId(string verb, string path)
    {
        var words = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(w => w != "api")
            .SelectMany(w => w.StartsWith('{') ? ["By", Pascal(w.Trim('{', '}'))] : w.Split('-', '.').Select(Pascal));
        return verb.ToLowerInvariant() + string.Concat(words);
    }

    private static string Pascal(string word) => word.Length == 0 ? word : char.ToUpper(word[0], CultureInfo.InvariantCulture) + word[1..];
}
