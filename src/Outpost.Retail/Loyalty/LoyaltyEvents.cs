using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Loyalty;

/// <summary>
/// Topics and event types of the loyalty context. HQ owns members and balances; stores send commutative
/// deltas (points earned, points redeemed) and HQ computes the balance.
/// </summary>
public static class LoyaltyEvents
{
    /// <summary>The member cache, scoped to a region, compacted by member id (HQ → stores).</summary>
    public const string MembersTopic = "members";

    /// <summary>Point deltas and sales to settle, written by a store (store → HQ).</summary>
    public const string LoyaltyTopic = "loyalty";

    /// <summary>The redemption allowance HQ grants one store (HQ → that store), compacted.</summary>
    public const string AllowanceTopic = "loyalty-allowance";

    /// <summary>A member joined or changed, with the balance HQ knew then.</summary>
    public const string MemberUpserted = "MemberUpserted";

    /// <summary>Points a sale earned (negative when a return takes them back).</summary>
    public const string PointsEarned = "PointsEarned";

    /// <summary>Points a sale spent as a tender.</summary>
    public const string PointsRedeemed = "PointsRedeemed";

    /// <summary>A sale for a card the store did not know: HQ settles its points and personal offers.</summary>
    public const string SaleToSettle = "SaleToSettle";

    /// <summary>The points this store may let members redeem before HQ tops the allowance up.</summary>
    public const string RedemptionAllowanceSet = "RedemptionAllowanceSet";
}

/// <summary>Version 1 of <c>MemberUpserted</c>.</summary>
/// <param name="MemberId">The member.</param>
/// <param name="CardNumber">The loyalty card number printed on the card (not a payment card).</param>
/// <param name="AppToken">What the member's app shows as a QR code; null when the member has no app.</param>
/// <param name="Name">The name to greet the member with.</param>
/// <param name="Segments">Segments, for personal offers.</param>
/// <param name="PointsBalance">The balance HQ held when it sent this.</param>
public sealed record MemberUpsertedV1(string MemberId, string CardNumber, string? AppToken, string Name, IReadOnlyList<string>? Segments, long PointsBalance);

/// <summary>Version 1 of <c>PointsEarned</c> and <c>PointsRedeemed</c>: a delta, never a balance.</summary>
/// <param name="MemberId">The member.</param>
/// <param name="Points">Points (positive; a return's take-back is a negative <c>PointsEarned</c>).</param>
/// <param name="SaleId">The sale or return.</param>
public sealed record PointsDeltaV1(string MemberId, long Points, string SaleId);

/// <summary>Version 1 of <c>SaleToSettle</c>: the member is not in this store's cache yet.</summary>
/// <param name="Presented">The card number or app token presented.</param>
/// <param name="SaleId">The sale.</param>
/// <param name="EligibleAmount">The amount that earns points.</param>
/// <param name="Currency">Its currency.</param>
public sealed record SaleToSettleV1(string Presented, string SaleId, decimal EligibleAmount, string Currency);

/// <summary>Version 1 of <c>RedemptionAllowanceSet</c>: a fresh allowance replaces the previous one.</summary>
/// <param name="AllowanceId">Identifies the grant.</param>
/// <param name="Points">Points the store may let members redeem from now on.</param>
public sealed record RedemptionAllowanceSetV1(string AllowanceId, long Points);

/// <summary>Source-generated JSON for the loyalty events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MemberUpsertedV1))]
[JsonSerializable(typeof(PointsDeltaV1))]
[JsonSerializable(typeof(SaleToSettleV1))]
[JsonSerializable(typeof(RedemptionAllowanceSetV1))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
public sealed partial class LoyaltyJsonContext : JsonSerializerContext;
