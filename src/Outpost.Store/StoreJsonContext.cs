using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using Outpost.Retail.Checkout;
using Outpost.Retail.Orders;
using Outpost.Store.Api;
using Outpost.Store.Devices;
using Outpost.Store.Feed;
using Outpost.Sync.Agent;

namespace Outpost.Store;

/// <summary>Source-generated JSON for the store server's requests and responses.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(OpenBasketRequest))]
[JsonSerializable(typeof(AddLineRequest))]
[JsonSerializable(typeof(QuantityRequest))]
[JsonSerializable(typeof(MemberRequest))]
[JsonSerializable(typeof(PaymentRequestBody))]
[JsonSerializable(typeof(CompleteRequest))]
[JsonSerializable(typeof(VoidRequest))]
[JsonSerializable(typeof(ReturnRequest))]
[JsonSerializable(typeof(PlaceOrderRequest))]
[JsonSerializable(typeof(OrderStatusRequest))]
[JsonSerializable(typeof(StockCountRequest))]
[JsonSerializable(typeof(AvailabilityRequest))]
[JsonSerializable(typeof(CampaignPriceRequest))]
[JsonSerializable(typeof(CampaignPromotionRequest))]
[JsonSerializable(typeof(EnrolRequest))]
[JsonSerializable(typeof(Outpost.Sync.Rollouts.DesiredResponse))]
[JsonSerializable(typeof(Outpost.Sync.Rollouts.StoreHealthResponse))]
[JsonSerializable(typeof(Outpost.Sync.Rollouts.LiveSettingsRequest))]
[JsonSerializable(typeof(Outpost.Sync.Rollouts.LiveSettingsResponse))]
[JsonSerializable(typeof(Api.LiveSettings.Saved))]
[JsonSerializable(typeof(Outpost.Sync.Rollouts.ProgressRequest))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(ProductLabel))]
[JsonSerializable(typeof(IReadOnlyList<PrintedLabel>))]
[JsonSerializable(typeof(IReadOnlyList<Outpost.Retail.Labels.ShelfLabel>))]
[JsonSerializable(typeof(Outpost.Retail.Inventory.Unavailable))]
[JsonSerializable(typeof(IReadOnlyList<Outpost.Retail.Inventory.NearbyStock>))]
[JsonSerializable(typeof(List<ProductLabel>))]
[JsonSerializable(typeof(BasketView))]
[JsonSerializable(typeof(SaleReceipt))]
[JsonSerializable(typeof(ReturnReceipt))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(OrderView))]
[JsonSerializable(typeof(IReadOnlyList<OrderView>))]
[JsonSerializable(typeof(IReadOnlyList<MenuEntry>))]
[JsonSerializable(typeof(EnrolledDevice))]
[JsonSerializable(typeof(IReadOnlyList<DeviceStatus>))]
[JsonSerializable(typeof(PairingCode))]
[JsonSerializable(typeof(PairingRequest))]
[JsonSerializable(typeof(PairRequest))]
[JsonSerializable(typeof(Paired))]
[JsonSerializable(typeof(WhoAmI))]
[JsonSerializable(typeof(ConnectivityStatus))]
[JsonSerializable(typeof(ChangeNotice))]
[JsonSerializable(typeof(SaleNotice))]
[JsonSerializable(typeof(ScheduleTick))]
[JsonSerializable(typeof(GateEnterRequest))]
[JsonSerializable(typeof(GateExitRequest))]
[JsonSerializable(typeof(Outpost.Retail.Gate.GateVisit))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
public sealed partial class StoreJsonContext : JsonSerializerContext;
