using Outpost.Core.Events;
using Outpost.Retail.Catalog;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Cli.Commands;

/// <summary>HQ's master data for the demo and the browser tests: a few products, a 3-for-2, menu items with recipes, a member.</summary>
internal static class DemoCatalog
{
    public const string Cola = "04006381333931";
    public const string Crisps = "00000096385074";
    public const string Burger = "00000020000011";
    public const string Salad = "00000020000028";
    public const string Fries = "00000020000035";
    public const string MemberCard = "6000100020003";

    /// <summary>The events HQ publishes (scope: all stores, the 3-for-2 and the member for region <paramref name="region"/>).</summary>
    public static List<NewEvent> Events(string region)
    {
        var events = new List<NewEvent>();
        var from = new DateTime(2026, 1, 1);
        void Product(string gtin, string name, decimal price, string category)
        {
            events.Add(new NewEvent { Topic = CatalogEvents.ProductsTopic, Type = CatalogEvents.ProductUpserted, Key = gtin,
                Payload = NewEvent.Json(new ProductUpsertedV1(gtin, name, category, "standard", SaleUnit.Each, null, null), CatalogJsonContext.Default.ProductUpsertedV1) });
            events.Add(new NewEvent { Topic = PricingEvents.PricesTopic, Type = PricingEvents.PriceSet, Key = PricingEvents.PriceKey(Scope.All, gtin, from),
                Payload = NewEvent.Json(new PriceSetV1(gtin, price, "EUR", from, null), PricingJsonContext.Default.PriceSetV1) });
        }

        void Menu(string gtin, string name, string category, params RecipeLine[] recipe) =>
            events.Add(new NewEvent { Topic = CatalogEvents.MenuTopic, Type = CatalogEvents.MenuItemUpserted, Key = gtin,
                Payload = NewEvent.Json(new MenuItemUpsertedV1(gtin, name, category, "standard", recipe, null), CatalogJsonContext.Default.MenuItemUpsertedV1) });

        Product(Cola, "Cola 1.5L", 1.50m, "drinks");
        Product(Crisps, "Crisps", 1.20m, "snacks");
        Product(Burger, "Bacon Cheeseburger", 8.90m, "burgers");
        Product(Salad, "Chicken Salad", 7.50m, "salads");
        Product(Fries, "Fries", 2.90m, "sides");
        Menu(Burger, "Bacon Cheeseburger", "burgers", new RecipeLine("bun", true), new RecipeLine("beef", true), new RecipeLine("bacon", true), new RecipeLine("cheese", false));
        Menu(Salad, "Chicken Salad", "salads", new RecipeLine("lettuce", true), new RecipeLine("chicken", true), new RecipeLine("bacon", false));
        Menu(Fries, "Fries", "sides", new RecipeLine("potatoes", true));
        events.Add(new NewEvent { Topic = PromotionEvents.PromotionsTopic, Type = PromotionEvents.PromotionSet, Key = "p-cola", Scope = Scope.Region(region),
            Payload = NewEvent.Json(new PromotionDefinitionV1("p-cola", "Cola 3 for 2", "multiBuy", [Cola], null, Buy: 3, Pay: 2), PromotionJsonContext.Default.PromotionDefinitionV1) });
        events.Add(new NewEvent { Topic = LoyaltyEvents.MembersTopic, Type = LoyaltyEvents.MemberUpserted, Key = "m-anna", Scope = Scope.Region(region),
            Payload = NewEvent.Json(new MemberUpsertedV1("m-anna", MemberCard, "app:anna", "Anna", null, 250), LoyaltyJsonContext.Default.MemberUpsertedV1) });
        return events;
    }
}
