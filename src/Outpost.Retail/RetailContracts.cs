using Outpost.Core.Contracts;
using Outpost.Retail.Alarms;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Equipment;
using Outpost.Retail.Gate;
using Outpost.Retail.Inventory;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Orders;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;
using Outpost.Retail.Telemetry;

namespace Outpost.Retail;

/// <summary>
/// The contract of every retail event type and version, generated from the records the code writes and reads. A type
/// gets a new version (a new record, a new line here) when a field changes meaning or a required field is added; the
/// old version stays for as long as a store may still write it (<see cref="EventVersions.Previous"/>).
/// </summary>
public static class RetailContracts
{
    /// <summary>Every retail contract.</summary>
    public static IReadOnlyList<EventContract> All { get; } =
    [
        EventContract.FromRecord(CatalogEvents.ProductsTopic, CatalogEvents.ProductUpserted, 1, CatalogJsonContext.Default.ProductUpsertedV1),
        EventContract.FromRecord(CatalogEvents.ProductsTopic, CatalogEvents.ProductRetired, 1, CatalogJsonContext.Default.ProductRetiredV1),
        EventContract.FromRecord(CatalogEvents.MenuTopic, CatalogEvents.MenuItemUpserted, 1, CatalogJsonContext.Default.MenuItemUpsertedV1),
        EventContract.FromRecord(PricingEvents.PricesTopic, PricingEvents.PriceSet, 1, PricingJsonContext.Default.PriceSetV1),
        EventContract.FromRecord(PricingEvents.CampaignsTopic, PricingEvents.StoreCampaignPriceSet, 1, PricingJsonContext.Default.StoreCampaignPriceSetV1),
        EventContract.FromRecord(PricingEvents.CampaignsTopic, PromotionEvents.StoreCampaignPromotionSet, 1, PromotionJsonContext.Default.StoreCampaignPromotionSetV1),
        EventContract.FromRecord(PromotionEvents.PromotionsTopic, PromotionEvents.PromotionSet, 1, PromotionJsonContext.Default.PromotionDefinitionV1),
        EventContract.FromRecord(PromotionEvents.PromotionsTopic, PromotionEvents.PromotionWithdrawn, 1, PromotionJsonContext.Default.PromotionWithdrawnV1),
        EventContract.FromRecord(CheckoutEvents.SalesTopic, CheckoutEvents.SaleCompleted, 1, CheckoutJsonContext.Default.SaleCompletedV1),
        EventContract.FromRecord(CheckoutEvents.SalesTopic, CheckoutEvents.SaleCompleted, 2, CheckoutJsonContext.Default.SaleCompletedV2),
        EventContract.FromRecord(CheckoutEvents.SalesTopic, CheckoutEvents.SaleVoided, 1, CheckoutJsonContext.Default.SaleVoidedV1),
        EventContract.FromRecord(CheckoutEvents.SalesTopic, CheckoutEvents.ReturnCompleted, 1, CheckoutJsonContext.Default.ReturnCompletedV1),
        EventContract.FromRecord(CheckoutEvents.ReceiptsTopic, CheckoutEvents.ReceiptIssued, 1, CheckoutJsonContext.Default.ReceiptIssuedV1),
        EventContract.FromRecord(CheckoutEvents.PaymentsTopic, CheckoutEvents.OfflineApprovalForwarded, 1, CheckoutJsonContext.Default.OfflineApprovalForwardedV1),
        EventContract.FromRecord(LoyaltyEvents.MembersTopic, LoyaltyEvents.MemberUpserted, 1, LoyaltyJsonContext.Default.MemberUpsertedV1),
        EventContract.FromRecord(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.PointsEarned, 1, LoyaltyJsonContext.Default.PointsDeltaV1),
        EventContract.FromRecord(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.PointsRedeemed, 1, LoyaltyJsonContext.Default.PointsDeltaV1),
        EventContract.FromRecord(LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.SaleToSettle, 1, LoyaltyJsonContext.Default.SaleToSettleV1),
        EventContract.FromRecord(LoyaltyEvents.AllowanceTopic, LoyaltyEvents.RedemptionAllowanceSet, 1, LoyaltyJsonContext.Default.RedemptionAllowanceSetV1),
        EventContract.FromRecord(InventoryEvents.StockTopic, InventoryEvents.StockCounted, 1, InventoryJsonContext.Default.StockCountedV1),
        EventContract.FromRecord(InventoryEvents.StockTopic, InventoryEvents.AvailabilityMarked, 1, InventoryJsonContext.Default.AvailabilityMarkedV1),
        EventContract.FromRecord(NearbyStockEvents.Topic, NearbyStockEvents.RegionalStock, 1, NearbyStockJsonContext.Default.RegionalStockV1),
        EventContract.FromRecord(NearbyStockEvents.Topic, NearbyStockEvents.RegionStores, 1, NearbyStockJsonContext.Default.RegionStoresV1),
        EventContract.FromRecord(OrderEvents.OrdersTopic, OrderEvents.OrderPlaced, 1, OrderJsonContext.Default.OrderPlacedV1),
        EventContract.FromRecord(OrderEvents.OrdersTopic, OrderEvents.OrderStatusChanged, 1, OrderJsonContext.Default.OrderStatusChangedV1),
        EventContract.FromRecord(GateService.GateTopic, GateService.GateEntered, 1, GateJsonContext.Default.GateEventV1),
        EventContract.FromRecord(GateService.GateTopic, GateService.GateExited, 1, GateJsonContext.Default.GateEventV1),
        EventContract.FromRecord(TelemetryEvents.Topic, TelemetryEvents.DeviceHeartbeat, 1, TelemetryJsonContext.Default.DeviceHeartbeatV1),
        EventContract.FromRecord(TelemetryEvents.Topic, TelemetryEvents.DeviceEnrolled, 1, TelemetryJsonContext.Default.DeviceEnrolledV1),
        EventContract.FromRecord(TelemetryEvents.Topic, TelemetryEvents.DeviceRevoked, 1, TelemetryJsonContext.Default.DeviceRevokedV1),
        EventContract.FromRecord(TelemetryEvents.Topic, TelemetryEvents.StoreHealthReported, 1, TelemetryJsonContext.Default.StoreHealthReportedV1),
        EventContract.FromRecord(TelemetryEvents.Topic, TelemetryEvents.StoreLogged, 1, TelemetryJsonContext.Default.StoreLoggedV1),
        EventContract.FromRecord(TelemetryEvents.SecurityTopic, TelemetryEvents.SecurityAudit, 1, TelemetryJsonContext.Default.SecurityAuditV1),
        EventContract.FromRecord(ConfigEvents.Topic, ConfigEvents.ConfigSet, 1, ConfigJsonContext.Default.ConfigSetV1),
        EventContract.FromRecord(AlarmEvents.Topic, AlarmEvents.AlarmRaised, 1, AlarmJsonContext.Default.AlarmRaisedV1),
        EventContract.FromRecord(AlarmEvents.Topic, AlarmEvents.AlarmCleared, 1, AlarmJsonContext.Default.AlarmClearedV1),
        EventContract.FromRecord(EquipmentEvents.Topic, EquipmentEvents.Reading, 1, EquipmentJsonContext.Default.EquipmentMessageV1),
        EventContract.FromRecord(EquipmentEvents.Topic, EquipmentEvents.Parked, 1, EquipmentJsonContext.Default.EquipmentMessageParkedV1),
        EventContract.FromRecord(EquipmentEvents.AlarmsTopic, EquipmentEvents.Alarm, 1, EquipmentJsonContext.Default.EquipmentMessageV1),
    ];
}
