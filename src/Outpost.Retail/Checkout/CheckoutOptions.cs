using Outpost.Retail.Pricing;

namespace Outpost.Retail.Checkout;

/// <summary>A store's checkout rules.</summary>
public sealed record CheckoutOptions
{
    /// <summary>Tax rates and whether prices include tax.</summary>
    public TaxTable Taxes { get; init; } = new(new Dictionary<string, decimal>(StringComparer.Ordinal) { ["standard"] = 0.20m, ["reduced"] = 0.055m, ["zero"] = 0m });

    /// <summary>Card payments up to this amount may be approved offline when the payment host is unreachable. Default 50.</summary>
    public decimal OfflineFloorLimit { get; init; } = 50m;

    /// <summary>The most a return without a receipt may refund. Default 30.</summary>
    public decimal MaxRefundWithoutReceipt { get; init; } = 30m;

    /// <summary>The largest quantity on one line (units or kilograms). Default 999.</summary>
    public decimal MaxLineQuantity { get; init; } = 999m;

    /// <summary>The most lines a basket may hold. Default 500.</summary>
    public int MaxLines { get; init; } = 500;

    /// <summary>
    /// Which versions of its sales the store writes: this release's (default), or the previous release's while a
    /// rollout could still be rolled back or HQ is not yet upgraded (see <see cref="Checkout.EventVersions"/>).
    /// </summary>
    public EventVersions EventVersions { get; init; } = EventVersions.Current;

    /// <summary>The store's name for receipts.</summary>
    public string StoreName { get; init; } = "Outpost store";
}
