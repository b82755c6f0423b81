using System.Globalization;
using System.Text;
using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Scenarios;

/// <summary>
/// Prices a scenario's baskets without a server, through exactly what a store runs: the scenario becomes
/// catalog, price and campaign events in a temporary log, the catalog and price-book projections build their
/// read models from them, and each basket goes through the price book and the promotions engine.
/// </summary>
public static class ScenarioRunner
{
    /// <summary>Reads a scenario, naming the field of the first problem.</summary>
    /// <exception cref="ScenarioException">Malformed JSON, a missing field, or a field of the wrong type.</exception>
    public static ScenarioFile Load(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ScenarioJsonContext.Default.ScenarioFile)
                ?? throw new ScenarioException("$: the file holds null; it must be a scenario object.");
        }
        catch (JsonException ex)
        {
            throw new ScenarioException($"{ex.Path ?? "$"}: {ex.Message}", ex);
        }
    }

    /// <summary>Prices every basket of a scenario; <paramref name="workDirectory"/> holds the temporary log.</summary>
    /// <exception cref="ScenarioException">A field is invalid; the message names it.</exception>
    public static async Task<IReadOnlyList<PricedScenarioBasket>> RunAsync(ScenarioFile scenario, string workDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var store = Store(scenario.Store);
        var rounding = scenario.Rounding switch
        {
            "halfEven" => MidpointRounding.ToEven,
            "halfUp" or "awayFromZero" => MidpointRounding.AwayFromZero,
            _ => throw new ScenarioException($"$.rounding: '{scenario.Rounding}' is not a rounding rule; use 'halfEven' or 'halfUp'."),
        };
        var definitions = scenario.Promotions ?? [];
        for (var i = 0; i < definitions.Count; i++)
        {
            Check(() => PromotionDefinitions.ToPromotion(definitions[i], $"$.promotions[{i}]", store.Currency));
        }

        var taxes = scenario.Taxes is { } t ? new TaxTable(t.Rates ?? throw new ScenarioException("$.taxes.rates: missing; give a rate per tax class."), t.IncludedInPrices, rounding) : null;
        foreach (var (product, i) in scenario.Products.Select((p, i) => (p, i)))
        {
            if (taxes is not null && !taxes.Rates.ContainsKey(product.TaxClass))
            {
                throw new ScenarioException($"$.products[{i}].taxClass: '{product.TaxClass}' has no rate in $.taxes.rates.");
            }
        }

        Directory.CreateDirectory(workDirectory);
        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(workDirectory, "scenario.db"), NodeId = store.StoreId, Durability = LogDurability.Normal });
        await AppendAsync(log, scenario, store, cancellationToken);
        await CatalogProjection.CreateTablesAsync(log, cancellationToken);
        await PriceBookProjection.CreateTablesAsync(log, cancellationToken);
        await PromotionsProjection.CreateTablesAsync(log, cancellationToken);
        await new ConsumerRunner(log, new CatalogProjection()).CatchUpAsync(cancellationToken);
        await new ConsumerRunner(log, new PriceBookProjection(store)).CatchUpAsync(cancellationToken);
        await new ConsumerRunner(log, new PromotionsProjection(store)).CatchUpAsync(cancellationToken);
        if ((await log.GetDeadLettersAsync(cancellationToken: cancellationToken)) is { Count: > 0 } parked)
        {
            throw new ScenarioException($"$: the scenario could not be read into the store's read models: {parked[0].Error.Split('\n')[0]}");
        }

        var catalog = new CatalogQueries(log, VariableMeasureLayout.Defaults);
        var prices = new PriceBook(log, store);
        var pricing = new PriceCheck(catalog, prices, new PromotionEngine(rounding), store);
        var promotions = await new PromotionCatalog(log, store).GetAsync(cancellationToken);
        var results = new List<PricedScenarioBasket>();
        for (var b = 0; b < scenario.Baskets.Count; b++)
        {
            var basket = scenario.Baskets[b];
            var lines = new List<(BasketLine Line, string Name, string Source)>();
            for (var l = 0; l < basket.Lines.Count; l++)
            {
                lines.Add(await LineAsync(basket.Lines[l], $"$.baskets[{b}].lines[{l}]", pricing, scenario.Moment, cancellationToken));
            }

            var customer = basket.Customer is { } c ? new Customer(c.MemberId, (c.Segments ?? []).ToHashSet(StringComparer.Ordinal)) : null;
            var priced = pricing.Price([.. lines.Select(x => x.Line)], promotions, scenario.Moment, customer);
            var tax = taxes?.Compute([.. lines.Select((x, i) => (x.Line.TaxClass, priced.LineAmounts[i]))], store.Currency);
            results.Add(new PricedScenarioBasket(
                basket.Name,
                [.. lines.Select(x => new PricedScenarioLine(x.Line.Gtin.ShortForm, x.Name, x.Line.Quantity, x.Line.UnitPrice.Amount,
                    (x.Line.UnitPrice * x.Line.Quantity).Round(rounding).Amount, x.Source))],
                [.. priced.Applied.Select(a => new ScenarioSaving(a.PromotionId, a.Name, [.. a.Used.Select(u => new ScenarioUnits(u.Gtin.ShortForm, u.Units))], a.Saving.Amount))],
                priced.Subtotal.Amount, priced.Saving.Amount, priced.Total.Amount, store.Currency.Code,
                tax?.Classes.Select(x => new ScenarioTax(x.TaxClass, x.Rate, x.Net.Amount, x.Tax.Amount)).ToList(), tax?.Total.Amount));
        }

        return results;
    }

    /// <summary>The priced baskets as printable receipts.</summary>
    public static string Receipts(IReadOnlyList<PricedScenarioBasket> baskets)
    {
        ArgumentNullException.ThrowIfNull(baskets);
        var text = new StringBuilder();
        foreach (var basket in baskets)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"== {basket.Name}");
            foreach (var line in basket.Lines)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{line.Name,-28} {line.Quantity,7:0.###} x {line.UnitPrice,8:0.00} {line.Amount,10:0.00}");
            }

            foreach (var saving in basket.Promotions)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {saving.Name,-37} {-saving.Saving,19:0.00}");
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"{"Subtotal",-48} {basket.Subtotal,10:0.00}");
            text.AppendLine(CultureInfo.InvariantCulture, $"{"You saved",-48} {basket.Saving,10:0.00}");
            text.AppendLine(CultureInfo.InvariantCulture, $"{"TOTAL " + basket.Currency,-48} {basket.Total,10:0.00}");
            foreach (var tax in basket.Taxes ?? [])
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  tax {tax.TaxClass} {tax.Rate:P1} on {tax.Net:0.00}: {tax.Tax:0.00}");
            }
            text.AppendLine();
        }

        return text.ToString();
    }

    private static StoreContext Store(ScenarioStore? store)
    {
        if (store is null)
        {
            throw new ScenarioException("$.store: missing; give id, region, timeZone and currency.");
        }

        if (!Scope.IsValidId(store.Id) || !Scope.IsValidId(store.Region))
        {
            throw new ScenarioException("$.store: id and region must be 1-64 letters, digits, '-', '_' or '.'.");
        }

        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(store.TimeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw new ScenarioException($"$.store.timeZone: '{store.TimeZone}' is not a known time zone; use an IANA id such as 'Europe/Paris'.", ex);
        }

        return Currency.TryParse(store.Currency, out var currency)
            ? new StoreContext(store.Id, store.Region, zone, currency)
            : throw new ScenarioException($"$.store.currency: '{store.Currency}' is not a known ISO 4217 code (for example EUR).");
    }

    private static async Task AppendAsync(SqliteEventLog log, ScenarioFile scenario, StoreContext store, CancellationToken cancellationToken)
    {
        var events = new List<NewEvent>();
        for (var i = 0; i < scenario.Products.Count; i++)
        {
            var p = scenario.Products[i];
            var unit = p.Unit switch
            {
                "each" => SaleUnit.Each,
                "kg" => SaleUnit.Kilogram,
                _ => throw new ScenarioException($"$.products[{i}].unit: '{p.Unit}' is not a unit; use 'each' or 'kg'."),
            };
            var gtin = Parse(p.Gtin, $"$.products[{i}].gtin");
            events.Add(new NewEvent
            {
                Topic = CatalogEvents.ProductsTopic,
                Type = CatalogEvents.ProductUpserted,
                Key = gtin.Value,
                Payload = NewEvent.Json(new ProductUpsertedV1(gtin.Value, p.Name, p.Category, p.TaxClass, unit, null, null), CatalogJsonContext.Default.ProductUpsertedV1),
            });
        }

        for (var i = 0; i < scenario.Prices.Count; i++)
        {
            var p = scenario.Prices[i];
            var gtin = Parse(p.Gtin, $"$.prices[{i}].gtin");
            if (!Scope.TryParse(p.Scope, out var scope))
            {
                throw new ScenarioException($"$.prices[{i}].scope: '{p.Scope}' is not of a known form; use '*', 'region:<id>' or 'store:<id>'.");
            }

            if (p.To is { } to && to <= p.From)
            {
                throw new ScenarioException($"$.prices[{i}].to: {to:s} is not after from ({p.From:s}).");
            }

            events.Add(new NewEvent
            {
                Topic = PricingEvents.PricesTopic,
                Type = PricingEvents.PriceSet,
                Key = PricingEvents.PriceKey(scope, gtin.Value, p.From),
                Scope = scope,
                Payload = NewEvent.Json(new PriceSetV1(gtin.Value, p.Amount, store.Currency.Code, p.From, p.To), PricingJsonContext.Default.PriceSetV1),
            });
        }

        var campaigns = scenario.Campaigns ?? [];
        for (var i = 0; i < campaigns.Count; i++)
        {
            var c = campaigns[i];
            var gtin = Parse(c.Gtin, $"$.campaigns[{i}].gtin");
            events.Add(new NewEvent
            {
                Topic = PricingEvents.CampaignsTopic,
                Type = PricingEvents.StoreCampaignPriceSet,
                Key = c.Id,
                Scope = Scope.Store(store.StoreId),
                Payload = NewEvent.Json(new StoreCampaignPriceSetV1(c.Id, gtin.Value, c.Amount, store.Currency.Code, c.From, c.To, c.CreatedBy), PricingJsonContext.Default.StoreCampaignPriceSetV1),
            });
        }

        foreach (var promotion in scenario.Promotions ?? [])
        {
            events.Add(new NewEvent
            {
                Topic = PromotionEvents.PromotionsTopic,
                Type = PromotionEvents.PromotionSet,
                Key = promotion.Id,
                Payload = NewEvent.Json(promotion, PromotionJsonContext.Default.PromotionDefinitionV1),
            });
        }

        await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
    }

    private static async Task<(BasketLine Line, string Name, string Source)> LineAsync(ScenarioLine line, string path, PriceCheck pricing, DateTimeOffset moment,
        CancellationToken cancellationToken)
    {
        var scanned = line.Scan ?? line.Gtin ?? throw new ScenarioException($"{path}: give 'gtin' (with 'quantity') or 'scan'.");
        try
        {
            var item = await pricing.ResolveAsync(scanned, line.Quantity, moment, cancellationToken);
            return (item.Line, item.Product.Name, item.Source);
        }
        catch (RetailException ex)
        {
            var field = ex.Field switch
            {
                "quantity" => ".quantity",
                "code" => line.Scan is null ? ".gtin" : ".scan",
                _ => string.Empty,
            };
            throw new ScenarioException($"{path}{field}: {ex.Message}", ex);
        }
    }

    private static void Check(Action validate)
    {
        try
        {
            validate();
        }
        catch (FormatException ex)
        {
            throw new ScenarioException(ex.Message, ex);
        }
    }

    private static Gtin Parse(string? text, string path) =>
        Gtin.TryParse(text, out var gtin, out var problem) ? gtin : throw new ScenarioException($"{path}: {problem}");
}
