using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Central.Admin;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Central.MasterData;

/// <summary>
/// HQ's master data: products, menu items and recipes, prices and promotions by scope, store settings. Every change
/// is validated whole, then published as down events in one atomic append, tagged with the admin who made it
/// (<c>admin:&lt;name&gt;</c> as the correlation id), which is what the audit trail reads.
/// </summary>
public static class MasterDataApi
{
    /// <summary>The largest catalog import body: 100,000 products fit with room to spare.</summary>
    public const long MaxImportBytes = 64L * 1024 * 1024;

    /// <summary>Where the admin filter leaves the name of the admin making the request.</summary>
    public const string ActorItem = "outpost.admin";

    private const int MaxErrorsListed = 1000;

    /// <summary>Maps the master-data endpoints on the admin group.</summary>
    public static RouteGroupBuilder MapMasterData(this RouteGroupBuilder group)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.MapPut("/products/{gtin}", PutProductAsync);
        group.MapDelete("/products/{gtin}", RetireProductAsync);
        group.MapPost("/import/products", ImportProductsAsync).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxImportBytes));
        group.MapPut("/menu/{code}", PutMenuItemAsync);
        group.MapPost("/prices", PostPriceAsync);
        group.MapPost("/promotions", PostPromotionAsync);
        group.MapDelete("/promotions/{id}", WithdrawPromotionAsync);
        group.MapPut("/config/{key}", PutConfigAsync);
        group.MapGet("/regions", async (StoreDirectory stores, CancellationToken cancellationToken) =>
            TypedResults.Ok<IReadOnlyList<string>>([.. (await stores.ListAsync(cancellationToken)).Select(s => s.Region).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]));
        group.MapGet("/audit", async (int? limit, IEventLog log, Ingest.HqReadModels models, CancellationToken cancellationToken) =>
        {
            await models.EnsureCreatedAsync(cancellationToken);
            return TypedResults.Ok(await AuditTrail.ListAsync(log, Math.Clamp(limit ?? 100, 1, 10_000), cancellationToken));
        });
        return group;
    }

    /// <summary>Validates a product; null (with the errors added) when it is not valid.</summary>
    public static ProductUpsertedV1? Validate(ProductBody body, int row, List<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (!Gtin.TryParse(body.Gtin, out var gtin, out var problem))
        {
            errors.Add(new FieldError(row, "gtin", problem));
        }

        Text(body.Name, "name", 200, row, errors);
        Text(body.Category, "category", 100, row, errors);
        Text(body.TaxClass, "taxClass", 50, row, errors);
        if (!Enum.IsDefined(body.Unit))
        {
            errors.Add(new FieldError(row, "unit", "Use Each or Kilogram."));
        }

        if (body.ImageUrl is { } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            errors.Add(new FieldError(row, "imageUrl", $"'{url}' is not an absolute URL."));
        }

        return errors.Count > before ? null : new ProductUpsertedV1(gtin.Value, body.Name!.Trim(), body.Category!.Trim(), body.TaxClass!.Trim(), body.Unit, body.ImageUrl, body.Attributes);
    }

    private static void Text(string? value, string field, int max, int row, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new FieldError(row, field, "Required."));
        }
        else if (value.Length > max)
        {
            errors.Add(new FieldError(row, field, $"At most {max} characters; this is {value.Length}."));
        }
    }

    private static string Actor(HttpContext context) => context.Items[ActorItem] as string ?? "admin";

    private static NewEvent Event<T>(HttpContext context, string topic, string type, string key, Scope scope, T payload, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) => new()
    {
        Topic = topic,
        Type = type,
        Key = key,
        Scope = scope,
        Payload = NewEvent.Json(payload, info),
        CorrelationId = "admin:" + Actor(context),
    };

    private static async Task<Applied> PublishAsync(IEventLog log, List<NewEvent> events, CancellationToken cancellationToken)
    {
        var results = await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
        return new Applied(events.Count, results.Count > 0 ? results[0].Seq : 0, results.Count > 0 ? results[^1].Seq : 0);
    }

    private static ProblemHttpResult Invalid(List<FieldError> errors, string what) => TypedResults.Problem(
        detail: $"{errors.Count} problem(s) in the {what}; nothing was applied. " + string.Join(" ", errors.Take(5).Select(e => (e.Row > 0 ? $"Row {e.Row}, " : "") + $"{e.Field}: {e.Message}")),
        statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid " + what,
        extensions: new Dictionary<string, object?> { ["errors"] = errors.Take(MaxErrorsListed).ToList(), ["errorCount"] = errors.Count });

    private static async Task<(Scope Scope, FieldError? Error)> ScopeAsync(string? text, StoreDirectory stores, CancellationToken cancellationToken)
    {
        if (!Scope.TryParse(text ?? "*", out var scope))
        {
            return (scope, new FieldError(0, "scope", $"'{text}' is not a scope: use '*', 'region:<id>' or 'store:<id>'."));
        }

        if (scope.Kind == ScopeKind.Store && await stores.FindAsync(scope.Id!, cancellationToken) is null)
        {
            return (scope, new FieldError(0, "scope", $"Store '{scope.Id}' is not registered."));
        }

        return (scope, null);
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> PutProductAsync(string gtin, ProductBody body, HttpContext context, IEventLog log, CancellationToken cancellationToken)
    {
        var errors = new List<FieldError>();
        if (body.Gtin is { } inBody && inBody != gtin)
        {
            errors.Add(new FieldError(0, "gtin", $"The body's GTIN '{inBody}' is not the address's '{gtin}'."));
        }

        var product = Validate(body with { Gtin = gtin }, 0, errors);
        return product is null || errors.Count > 0
            ? Invalid(errors, "product")
            : TypedResults.Ok(await PublishAsync(log, [Event(context, CatalogEvents.ProductsTopic, CatalogEvents.ProductUpserted, product.Gtin, Scope.All, product, CatalogJsonContext.Default.ProductUpsertedV1)], cancellationToken));
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> RetireProductAsync(string gtin, HttpContext context, IEventLog log, CancellationToken cancellationToken) =>
        !Gtin.TryParse(gtin, out var parsed, out var problem)
            ? Invalid([new FieldError(0, "gtin", problem)], "product")
            : TypedResults.Ok(await PublishAsync(log, [Event(context, CatalogEvents.ProductsTopic, CatalogEvents.ProductRetired, parsed.Value, Scope.All, new ProductRetiredV1(parsed.Value), CatalogJsonContext.Default.ProductRetiredV1)], cancellationToken));

    /// <summary>
    /// A whole catalog, as CSV (<c>text/csv</c>: header <c>gtin,name,category,tax_class,unit[,image_url]</c>) or JSON
    /// (an array of products). Every row is checked first; one bad row refuses the whole file with every problem
    /// listed by row, and a good file is published in one atomic append.
    /// </summary>
    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> ImportProductsAsync(HttpContext context, IEventLog log, CancellationToken cancellationToken)
    {
        var errors = new List<FieldError>();
        List<(int Row, ProductBody Body)> rows;
        try
        {
            rows = context.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true
                ? await ReadCsvAsync(context.Request.Body, errors, cancellationToken)
                : await ReadJsonAsync(context.Request.Body, cancellationToken);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return TypedResults.Problem(ex.Message + " Nothing was applied.", statusCode: StatusCodes.Status400BadRequest, title: "Unreadable catalog");
        }

        var events = new List<NewEvent>(rows.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (row, body) in rows)
        {
            if (Validate(body, row, errors) is not { } product)
            {
                continue;
            }

            if (seen.TryGetValue(product.Gtin, out var first))
            {
                errors.Add(new FieldError(row, "gtin", $"GTIN {product.Gtin} is also on row {first}."));
                continue;
            }

            seen[product.Gtin] = row;
            events.Add(Event(context, CatalogEvents.ProductsTopic, CatalogEvents.ProductUpserted, product.Gtin, Scope.All, product, CatalogJsonContext.Default.ProductUpsertedV1));
        }

        if (errors.Count > 0)
        {
            return Invalid(errors, "catalog");
        }

        return rows.Count == 0
            ? TypedResults.Problem("The catalog has no products. Nothing was applied.", statusCode: StatusCodes.Status400BadRequest, title: "Empty catalog")
            : TypedResults.Ok(await PublishAsync(log, events, cancellationToken));
    }

    private static async Task<List<(int, ProductBody)>> ReadCsvAsync(Stream body, List<FieldError> errors, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body);
        var text = await reader.ReadToEndAsync(cancellationToken);
        var records = CatalogCsv.Read(new StringReader(text)).ToList();
        if (records.Count == 0)
        {
            return [];
        }

        var header = records[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToList();
        int Column(string name) => header.IndexOf(name);
        string[] required = ["gtin", "name", "category", "tax_class", "unit"];
        if (required.FirstOrDefault(r => Column(r) < 0) is { } missing)
        {
            throw new FormatException($"The header has no '{missing}' column; expected gtin,name,category,tax_class,unit[,image_url].");
        }

        var rows = new List<(int, ProductBody)>(records.Count);
        foreach (var (line, fields) in records.Skip(1))
        {
            string? Field(string name) => Column(name) is var i and >= 0 && i < fields.Count && fields[i].Length > 0 ? fields[i] : null;
            var unitText = Field("unit") ?? "each";
            if (!Enum.TryParse<SaleUnit>(unitText, ignoreCase: true, out var unit) || !Enum.IsDefined(unit))
            {
                errors.Add(new FieldError(line, "unit", $"'{unitText}' is not a unit: use each or kilogram."));
            }

            rows.Add((line, new ProductBody(Field("gtin"), Field("name"), Field("category"), Field("tax_class"), unit, Field("image_url"))));
        }

        return rows;
    }

    private static async Task<List<(int, ProductBody)>> ReadJsonAsync(Stream body, CancellationToken cancellationToken)
    {
        var products = await JsonSerializer.DeserializeAsync(body, MasterDataJsonContext.Default.ListProductBody, cancellationToken)
            ?? throw new JsonException("The body is JSON null; send an array of products.");
        return [.. products.Select((p, i) => (i + 1, p))];
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> PutMenuItemAsync(string code, MenuItemBody body, HttpContext context, IEventLog log, CancellationToken cancellationToken)
    {
        var errors = new List<FieldError>();
        Text(code, "code", 64, 0, errors);
        Text(body.Name, "name", 200, 0, errors);
        Text(body.Category, "category", 100, 0, errors);
        Text(body.TaxClass, "taxClass", 50, 0, errors);
        if (body.Recipe is null || body.Recipe.Any(r => string.IsNullOrWhiteSpace(r.Ingredient)))
        {
            errors.Add(new FieldError(0, "recipe", "Give the recipe as a list of ingredients, each with a name and whether it is required (it may be empty)."));
        }

        if (errors.Count > 0)
        {
            return Invalid(errors, "menu item");
        }

        var item = new MenuItemUpsertedV1(code, body.Name!.Trim(), body.Category!.Trim(), body.TaxClass!.Trim(), body.Recipe!, body.ImageUrl);
        return TypedResults.Ok(await PublishAsync(log, [Event(context, CatalogEvents.MenuTopic, CatalogEvents.MenuItemUpserted, code, Scope.All, item, CatalogJsonContext.Default.MenuItemUpsertedV1)], cancellationToken));
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> PostPriceAsync(PriceBody body, HttpContext context, IEventLog log, StoreDirectory stores, CancellationToken cancellationToken)
    {
        var errors = new List<FieldError>();
        if (!Gtin.TryParse(body.Gtin, out var gtin, out var problem))
        {
            errors.Add(new FieldError(0, "gtin", problem));
        }

        if (body.Amount <= 0 || decimal.Round(body.Amount, 3) != body.Amount)
        {
            errors.Add(new FieldError(0, "amount", $"A price is more than 0 with at most 3 decimals; {body.Amount.ToString(CultureInfo.InvariantCulture)} is not."));
        }

        if (!Currency.TryParse(body.Currency, out var currency))
        {
            errors.Add(new FieldError(0, "currency", $"'{body.Currency}' is not an ISO 4217 currency code."));
        }

        if (body.From == default || body.To is { } to && to <= body.From)
        {
            errors.Add(new FieldError(0, "from", "Give the store-local moment the price starts (from), before its end (to) if it has one."));
        }

        var (scope, scopeError) = await ScopeAsync(body.Scope, stores, cancellationToken);
        if (scopeError is not null)
        {
            errors.Add(scopeError);
        }

        if (errors.Count > 0)
        {
            return Invalid(errors, "price");
        }

        var price = new PriceSetV1(gtin.Value, body.Amount, currency.Code, body.From, body.To);
        return TypedResults.Ok(await PublishAsync(log, [Event(context, PricingEvents.PricesTopic, PricingEvents.PriceSet, PricingEvents.PriceKey(scope, gtin.Value, body.From), scope, price, PricingJsonContext.Default.PriceSetV1)], cancellationToken));
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> PostPromotionAsync(PromotionBody body, HttpContext context, IEventLog log, StoreDirectory stores, CancellationToken cancellationToken)
    {
        var errors = new List<FieldError>();
        var (scope, scopeError) = await ScopeAsync(body.Scope, stores, cancellationToken);
        if (scopeError is not null)
        {
            errors.Add(scopeError);
        }

        if (!Currency.TryParse(body.Currency ?? "EUR", out var currency))
        {
            errors.Add(new FieldError(0, "currency", $"'{body.Currency}' is not an ISO 4217 currency code."));
        }
        else if (body.Promotion is null)
        {
            errors.Add(new FieldError(0, "promotion", "Required: the promotion's definition."));
        }
        else
        {
            try
            {
                PromotionDefinitions.ToPromotion(body.Promotion, "$.promotion", currency);
            }
            catch (FormatException ex)
            {
                errors.Add(new FieldError(0, "promotion", ex.Message));
            }
        }

        return errors.Count > 0
            ? Invalid(errors, "promotion")
            : TypedResults.Ok(await PublishAsync(log, [Event(context, PromotionEvents.PromotionsTopic, PromotionEvents.PromotionSet, scope + "|" + body.Promotion!.Id, scope, body.Promotion, PromotionJsonContext.Default.PromotionDefinitionV1)], cancellationToken));
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> WithdrawPromotionAsync(string id, string? scope, HttpContext context, IEventLog log, StoreDirectory stores, CancellationToken cancellationToken)
    {
        var (parsed, scopeError) = await ScopeAsync(scope, stores, cancellationToken);
        return scopeError is not null
            ? Invalid([scopeError], "withdrawal")
            : TypedResults.Ok(await PublishAsync(log, [Event(context, PromotionEvents.PromotionsTopic, PromotionEvents.PromotionWithdrawn, parsed + "|" + id, parsed, new PromotionWithdrawnV1(id), PromotionJsonContext.Default.PromotionWithdrawnV1)], cancellationToken));
    }

    private static async Task<Results<Ok<Applied>, ProblemHttpResult>> PutConfigAsync(string key, ConfigBody body, HttpContext context, IEventLog log, StoreDirectory stores, CancellationToken cancellationToken)
    {
        var errors = new List<FieldError>();
        Text(key, "key", 100, 0, errors);
        var (scope, scopeError) = await ScopeAsync(body.Scope, stores, cancellationToken);
        if (scopeError is not null)
        {
            errors.Add(scopeError);
        }

        if (body.Value.ValueKind == JsonValueKind.Undefined)
        {
            errors.Add(new FieldError(0, "value", "Required: any JSON value."));
        }

        return errors.Count > 0
            ? Invalid(errors, "setting")
            : TypedResults.Ok(await PublishAsync(log, [Event(context, ConfigEvents.Topic, ConfigEvents.ConfigSet, scope + "|" + key, scope, new ConfigSetV1(key, body.Value), ConfigJsonContext.Default.ConfigSetV1)], cancellationToken));
    }
}
