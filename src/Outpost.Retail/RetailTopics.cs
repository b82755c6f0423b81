using Outpost.Core.Topics;
using Outpost.Retail.Alarms;
using Outpost.Retail.Inventory;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Equipment;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail;

/// <summary>
/// The retail topics, their direction, drain priority and retention, declared once for stores and HQ: sales
/// and orders drain first, stock before telemetry; master data comes down compacted by key.
/// </summary>
public static class RetailTopics
{
    /// <summary>Kept at a store after HQ acknowledged them, in case a till or HQ asks again.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromDays(7);

    /// <summary>Every retail topic.</summary>
    public static TopicCatalog Catalog { get; } = new([
        new TopicPolicy(CheckoutEvents.SalesTopic, TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy("orders", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy(CheckoutEvents.PaymentsTopic, TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy(LoyaltyEvents.LoyaltyTopic, TopicDirection.Up, TopicPriority.High, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy("stock", TopicDirection.Up, TopicPriority.High, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy(PricingEvents.CampaignsTopic, TopicDirection.Up, TopicPriority.High, RetentionPolicy.UntilDone(TimeSpan.FromDays(30))),
        new TopicPolicy("gate", TopicDirection.Up, TopicPriority.Normal, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy(CheckoutEvents.ReceiptsTopic, TopicDirection.Up, TopicPriority.Normal, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(64 * 1024 * 1024, TimeSpan.FromDays(1))),

        // In-store equipment over MQTT (the store's MQTT bridge): readings at telemetry's priority under a budget of
        // their own, so a chatty fryer cannot crowd out the rest; alarms ahead of them, under a smaller budget.
        new TopicPolicy(EquipmentEvents.Topic, TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(32 * 1024 * 1024, TimeSpan.FromDays(1))),
        new TopicPolicy(EquipmentEvents.AlarmsTopic, TopicDirection.Up, TopicPriority.Normal, RetentionPolicy.Budget(8 * 1024 * 1024, Grace)),

        // Services' alarms (raised and cleared) go up ahead of telemetry and stay a month at the store, so the back office
        // still shows an alarm raised weeks ago and never cleared; the food-safety service's HACCP records go up and are
        // kept as long as sales.
        new TopicPolicy(AlarmEvents.Topic, TopicDirection.Up, TopicPriority.High, RetentionPolicy.UntilDone(TimeSpan.FromDays(30))),
        new TopicPolicy("haccp", TopicDirection.Up, TopicPriority.Normal, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy(CatalogEvents.ProductsTopic, TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy(CatalogEvents.MenuTopic, TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy(PricingEvents.PricesTopic, TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy(PromotionEvents.PromotionsTopic, TopicDirection.Down, TopicPriority.High, RetentionPolicy.Compacted),
        new TopicPolicy(LoyaltyEvents.MembersTopic, TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),
        new TopicPolicy(LoyaltyEvents.AllowanceTopic, TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),
        new TopicPolicy("schedule", TopicDirection.Local, TopicPriority.Low, RetentionPolicy.Compacted),
        new TopicPolicy(ConfigEvents.Topic, TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),

        // Rollouts (Outpost.Sync.Rollouts.RolloutEvents): the release each store should run comes down compacted by store;
        // its agent's steps go up at the priority of operational telemetry.
        new TopicPolicy("deploy", TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.Compacted),
        new TopicPolicy("deploy.progress", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.UntilDone(Grace)),
        new TopicPolicy(NearbyStockEvents.Topic, TopicDirection.Down, TopicPriority.Low, RetentionPolicy.Compacted),

        // The store's security audit (devices paired and revoked, failed pairings and sign-ins) goes up for HQ to keep.
        new TopicPolicy(Telemetry.TelemetryEvents.SecurityTopic, TopicDirection.Up, TopicPriority.Normal, RetentionPolicy.UntilDone(Grace)),
    ]);
}
