namespace Outpost.Retail.Loyalty;

/// <summary>How a store's loyalty scheme earns and values points.</summary>
public sealed record LoyaltyOptions
{
    /// <summary>Points earned per whole currency unit paid (not counting what points paid). Default 1.</summary>
    public long PointsPerUnit { get; init; } = 1;

    /// <summary>What one point is worth when redeemed, in the store's currency. Default 0.01.</summary>
    public decimal PointValue { get; init; } = 0.01m;
}
