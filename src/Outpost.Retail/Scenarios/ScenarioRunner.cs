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
        var promotions = (scenario.Promotions ?? []).Select((p, i) => Promotion(p, $"$.promotions[{i}]", store.Currency)).ToList();
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
        await new ConsumerRunner(log, new CatalogProjection()).CatchUpAsync(cancellationToken);
        await new ConsumerRunner(log, new PriceBookProjection(store)).CatchUpAsync(cancellationToken);
        if ((await log.GetDeadLettersAsync(cancellationToken: cancellationToken)) is { Count: > 0 } parked)
        {
            throw new ScenarioException($"$: the scenario could not be read into the store's read models: {parked[0].Error.Split('\n')[0]}");
        }

        var catalog = new CatalogQueries(log, VariableMeasureLayout.Defaults);
        var prices = new PriceBook(log, store);
        var engine = new PromotionEngine(rounding);
        var local = store.LocalTime(scenario.Moment);
        var results = new List<PricedScenarioBasket>();
        for (var b = 0; b < scenario.Baskets.Count; b++)
        {
            var basket = scenario.Baskets[b];
            var lines = new List<(BasketLine Line, string Name, string Source)>();
            for (var l = 0; l < basket.Lines.Count; l++)
            {
                lines.Add(await LineAsync(basket.Lines[l], $"$.baskets[{b}].lines[{l}]", catalog, prices, scenario.Moment, store.Currency, cancellationToken));
            }

            var customer = basket.Customer is { } c ? new Customer(c.MemberId, (c.Segments ?? []).ToHashSet(StringComparer.Ordinal)) : null;
            var priced = engine.Price([.. lines.Select(x => x.Line)], promotions, local, store.Currency, customer);
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
                Key = PricingEvents.PriceKey(gtin.Value, p.From),
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

        await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
    }

    private static async Task<(BasketLine Line, string Name, string Source)> LineAsync(ScenarioLine line, string path, CatalogQueries catalog, PriceBook prices,
        DateTimeOffset moment, Currency currency, CancellationToken cancellationToken)
    {
        var scanned = line.Scan ?? line.Gtin ?? throw new ScenarioException($"{path}: give 'gtin' (with 'quantity') or 'scan'.");
        VariableMeasureBarcode? measure;
        try
        {
            measure = VariableMeasureBarcode.TryRead(scanned, VariableMeasureLayout.Defaults);
        }
        catch (FormatException ex)
        {
            throw new ScenarioException($"{path}.{(line.Scan is null ? "gtin" : "scan")}: {ex.Message}", ex);
        }

        var product = await catalog.FindAsync(scanned, cancellationToken)
            ?? throw new ScenarioException($"{path}: no product {measure?.Product.ShortForm ?? scanned} in the scenario's products.");
        if (measure is { Value: EmbeddedValue.Price })
        {
            return (new BasketLine(product.Gtin, product.Category, 1, new Money(measure.Amount, currency), TaxClass: product.TaxClass), product.Name, "barcode");
        }

        var shelf = await prices.PriceAtAsync(product.Gtin, moment, cancellationToken)
            ?? throw new ScenarioException($"{path}: product {product.Gtin.ShortForm} has no price for this store at {moment:o}.");
        var quantity = measure is { Value: EmbeddedValue.Weight } ? measure.Amount : line.Quantity ?? 1m;
        if (quantity <= 0)
        {
            throw new ScenarioException($"{path}.quantity: {quantity} is not a positive quantity.");
        }

        var weighed = product.Unit == SaleUnit.Kilogram;
        if (!weighed && quantity != decimal.Truncate(quantity))
        {
            throw new ScenarioException($"{path}.quantity: {quantity} of '{product.Name}', which is sold by the unit; give a whole number.");
        }

        var source = shelf.Source == PriceSource.StoreCampaign ? "campaign " + shelf.Reference : "hq";
        return (new BasketLine(product.Gtin, product.Category, quantity, shelf.Price, weighed, product.TaxClass), product.Name, source);
    }

    private static Promotion Promotion(ScenarioPromotion p, string path, Currency currency)
    {
        var products = (p.Products ?? []).Select((g, i) => Parse(g, $"{path}.products[{i}]")).ToHashSet();
        var categories = (p.Categories ?? []).ToHashSet(StringComparer.Ordinal);
        var stacking = p.Stacking switch
        {
            "exclusive" => Stacking.Exclusive,
            "stackable" => Stacking.Stackable,
            _ => throw new ScenarioException($"{path}.stacking: '{p.Stacking}' is neither 'exclusive' nor 'stackable'."),
        };
        T Need<T>(T? value, string field)
            where T : struct => value ?? throw new ScenarioException($"{path}.{field}: a {p.Type} promotion needs it.");
        Promotion promotion = p.Type switch
        {
            "multiBuy" => Need(p.Buy, "buy") > Need(p.Pay, "pay") && p.Pay >= 0
                ? new MultiBuy(p.Id, p.Name, products, categories, stacking, p.Buy!.Value, p.Pay!.Value, p.Priority)
                : throw new ScenarioException($"{path}.pay: must be less than buy ({p.Buy})."),
            "fixedPrice" => new FixedPriceBundle(p.Id, p.Name, products, categories, stacking, Need(p.Quantity, "quantity"), new Money(Need(p.Price, "price"), currency), p.Priority),
            "percentOff" => Need(p.Percent, "percent") is > 0 and <= 100
                ? new PercentOff(p.Id, p.Name, products, categories, stacking, p.Percent!.Value, p.Priority)
                : throw new ScenarioException($"{path}.percent: {p.Percent} is not between 0 and 100."),
            "basketThreshold" => new BasketThreshold(p.Id, p.Name, new Money(Need(p.Spend, "spend"), currency), new Money(Need(p.Off, "off"), currency), p.Priority),
            "amountOff" => new AmountOff(p.Id, p.Name, products, categories, stacking, new Money(Need(p.Amount, "amount"), currency), p.Priority),
            "buyGet" => p.RewardPercent is > 0 and <= 100
                ? new BuyGet(p.Id, p.Name, products, categories, stacking, Need(p.Buy, "buy"),
                    (p.RewardProducts ?? []).Select((g, i) => Parse(g, $"{path}.rewardProducts[{i}]")).ToHashSet(),
                    (p.RewardCategories ?? []).ToHashSet(StringComparer.Ordinal), Need(p.Get, "get"), p.RewardPercent, p.Priority)
                : throw new ScenarioException($"{path}.rewardPercent: {p.RewardPercent} is not between 0 and 100."),
            _ => throw new ScenarioException($"{path}.type: '{p.Type}' is not a promotion type; use multiBuy, fixedPrice, percentOff, amountOff, buyGet or basketThreshold."),
        };
        var audience = p.Audience is { } a
            ? new Audience((a.Members ?? []).ToHashSet(StringComparer.Ordinal), (a.Segments ?? []).ToHashSet(StringComparer.Ordinal))
            : null;
        return promotion with { FromLocal = p.From, ToLocal = p.To, Audience = audience };
    }

    private static Gtin Parse(string? text, string path) =>
        Gtin.TryParse(text, out var gtin, out var problem) ? gtin : throw new ScenarioException($"{path}: {problem}");
}
