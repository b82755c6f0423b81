using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Loyalty;

/// <summary>
/// The loyalty context's read model at a store: the region's members (with the balance HQ sent), this store's
/// own point deltas since, and the redemption allowance HQ granted the store.
/// </summary>
public sealed class LoyaltyProjection(StoreContext store) : IEventConsumer
{
    /// <summary>The consumer's name, which names its checkpoint.</summary>
    public const string ConsumerName = "loyalty";

    /// <inheritdoc />
    public string Name => ConsumerName;

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(LoyaltyEvents.MembersTopic, LoyaltyEvents.LoyaltyTopic, LoyaltyEvents.AllowanceTopic);

    /// <summary>Creates the context's tables if needed.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS loyalty_members(
                member_id TEXT PRIMARY KEY, card_number TEXT NOT NULL, app_token TEXT, name TEXT NOT NULL, segments TEXT NOT NULL,
                hq_balance INTEGER NOT NULL, snapshot_seq INTEGER NOT NULL) WITHOUT ROWID;
            CREATE UNIQUE INDEX IF NOT EXISTS loyalty_members_by_card ON loyalty_members(card_number);
            CREATE INDEX IF NOT EXISTS loyalty_members_by_app ON loyalty_members(app_token) WHERE app_token IS NOT NULL;
            CREATE TABLE IF NOT EXISTS loyalty_deltas(seq INTEGER PRIMARY KEY, member_id TEXT NOT NULL, points INTEGER NOT NULL, redeemed INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS loyalty_deltas_by_member ON loyalty_deltas(member_id, seq);
            CREATE TABLE IF NOT EXISTS loyalty_allowance(k INTEGER PRIMARY KEY CHECK (k = 1), allowance_id TEXT NOT NULL, points INTEGER NOT NULL, since_seq INTEGER NOT NULL);
            """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (LoyaltyEvents.MemberUpserted, 1):
                if (PriceBookProjection.Rank(e.Scope, store) is null)
                {
                    return;
                }

                var member = e.Deserialize(LoyaltyJsonContext.Default.MemberUpsertedV1);
                await transaction.ExecuteAsync("""
                    DELETE FROM loyalty_members WHERE card_number = $card AND member_id <> $id;
                    INSERT INTO loyalty_members(member_id, card_number, app_token, name, segments, hq_balance, snapshot_seq)
                    VALUES($id, $card, $app, $name, $segments, $balance, $seq)
                    ON CONFLICT(member_id) DO UPDATE SET card_number = excluded.card_number, app_token = excluded.app_token, name = excluded.name,
                        segments = excluded.segments, hq_balance = excluded.hq_balance, snapshot_seq = excluded.snapshot_seq
                    """, cancellationToken, ("$id", member.MemberId), ("$card", member.CardNumber), ("$app", member.AppToken), ("$name", member.Name),
                    ("$segments", JsonSerializer.Serialize(member.Segments ?? [], LoyaltyJsonContext.Default.IReadOnlyListString)), ("$balance", member.PointsBalance), ("$seq", e.Seq));
                break;
            case (LoyaltyEvents.PointsEarned or LoyaltyEvents.PointsRedeemed, 1):
                if (e.Origin.Node.Value != store.StoreId)
                {
                    return; // another store's deltas are HQ's business
                }

                var delta = e.Deserialize(LoyaltyJsonContext.Default.PointsDeltaV1);
                var redeemed = e.Type == LoyaltyEvents.PointsRedeemed;
                await transaction.ExecuteAsync("INSERT OR IGNORE INTO loyalty_deltas(seq, member_id, points, redeemed) VALUES($seq, $id, $points, $redeemed)", cancellationToken,
                    ("$seq", e.Seq), ("$id", delta.MemberId), ("$points", redeemed ? -delta.Points : delta.Points), ("$redeemed", redeemed ? 1 : 0));
                break;
            case (LoyaltyEvents.SaleToSettle, 1):
                return; // settled at HQ
            case (LoyaltyEvents.RedemptionAllowanceSet, 1):
                if (PriceBookProjection.Rank(e.Scope, store) != 2)
                {
                    return;
                }

                var allowance = e.Deserialize(LoyaltyJsonContext.Default.RedemptionAllowanceSetV1);
                await transaction.ExecuteAsync("""
                    INSERT INTO loyalty_allowance(k, allowance_id, points, since_seq) VALUES(1, $id, $points, $seq)
                    ON CONFLICT(k) DO UPDATE SET allowance_id = excluded.allowance_id, points = excluded.points, since_seq = excluded.since_seq
                    """, cancellationToken, ("$id", allowance.AllowanceId), ("$points", allowance.Points), ("$seq", e.Seq));
                break;
            case (LoyaltyEvents.MemberUpserted or LoyaltyEvents.PointsEarned or LoyaltyEvents.PointsRedeemed or LoyaltyEvents.SaleToSettle or LoyaltyEvents.RedemptionAllowanceSet, _):
                throw new NotSupportedException($"The loyalty context reads MemberUpserted, PointsEarned, PointsRedeemed, SaleToSettle and RedemptionAllowanceSet v1, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }

}
