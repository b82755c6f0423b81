using System.Data.Common;
using System.Text.Json;
using Outpost.Core.Log;

namespace Outpost.Retail.Loyalty;

/// <summary>A loyalty member as this store knows them.</summary>
/// <param name="MemberId">The member.</param>
/// <param name="Name">The name.</param>
/// <param name="Segments">Segments, for personal offers.</param>
/// <param name="Balance">The balance HQ last sent plus this store's deltas since.</param>
public sealed record KnownMember(string MemberId, string Name, IReadOnlySet<string> Segments, long Balance);

/// <summary>Points cannot be redeemed: the member's balance or the store's allowance is too small.</summary>
public sealed class LoyaltyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LoyaltyException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public LoyaltyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LoyaltyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The loyalty context's service at a store: identifies members from the replicated cache, and guards
/// redemptions so that, across concurrent tills, no member redeems more than their balance and the store never
/// redeems more than the allowance HQ granted it: redemptions take turns, each checked against the read model
/// once it has caught up with the log, and each waits for the read model to record it before the next.
/// </summary>
/// <remarks>
/// The balance is HQ's figure plus this store's deltas recorded after that figure arrived. Deltas recorded
/// before it are taken to be included in it; while HQ lags, that undercounts recent store activity, and the
/// allowance bounds what an out-of-date balance can cost.
/// </remarks>
public sealed class LoyaltyService(IEventLog log, LoyaltyOptions options, Func<string, long, CancellationToken, Task> projected) : IDisposable
{
    private const string BalanceSql = """
        m.hq_balance + coalesce((SELECT sum(points) FROM loyalty_deltas d WHERE d.member_id = m.member_id AND d.seq > m.snapshot_seq), 0)
        """;

    private readonly SemaphoreSlim _redemptions = new(1, 1);

    /// <summary>The scheme's options.</summary>
    public LoyaltyOptions Options => options;

    /// <summary>The member a card number or app token belongs to, or null when this store does not know it.</summary>
    public async Task<KnownMember?> IdentifyAsync(string presented, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(presented);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT m.member_id, m.name, m.segments, {BalanceSql} FROM loyalty_members m WHERE m.card_number = $code OR m.app_token = $code LIMIT 1";
        command.With("$code", presented.Trim());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var segments = JsonSerializer.Deserialize(reader.GetString(2), LoyaltyJsonContext.Default.IReadOnlyListString) ?? [];
        return new KnownMember(reader.GetString(0), reader.GetString(1), segments.ToHashSet(StringComparer.Ordinal), reader.GetInt64(3));
    }

    /// <summary>Points the store may still let members redeem.</summary>
    public async Task<long> AllowanceLeftAsync(CancellationToken cancellationToken)
    {
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        return await AllowanceLeftAsync(connection, cancellationToken);
    }

    /// <summary>Checks that a member can redeem points now (a till asks before taking points as a tender; completion checks again).</summary>
    /// <exception cref="LoyaltyException">The balance or the store's allowance is too small.</exception>
    public async Task CheckAsync(string memberId, long points, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(points);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await CheckAsync(connection, memberId, points, cancellationToken);
    }

    /// <summary>
    /// Redeems points: checks balance and allowance, then runs <paramref name="commit"/> (which appends the
    /// <c>PointsRedeemed</c> event with the sale and returns its sequence), all under one lock so two tills
    /// cannot spend the same points.
    /// </summary>
    /// <exception cref="LoyaltyException">The balance or the store's allowance is too small; nothing was committed.</exception>
    public async Task<T> RedeemAsync<T>(string memberId, long points, Func<CancellationToken, Task<(T Result, long Seq)>> commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        await _redemptions.WaitAsync(cancellationToken);
        try
        {
            await projected(LoyaltyProjection.ConsumerName, log.Head, cancellationToken);
            await CheckAsync(memberId, points, cancellationToken);
            var (result, seq) = await commit(cancellationToken);
            await projected(LoyaltyProjection.ConsumerName, seq, cancellationToken);
            return result;
        }
        finally
        {
            _redemptions.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _redemptions.Dispose();

    private static async Task CheckAsync(DbConnection connection, string memberId, long points, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {BalanceSql} FROM loyalty_members m WHERE m.member_id = $id";
        command.With("$id", memberId);
        var balance = await command.ExecuteScalarAsync(cancellationToken) is long b ? b
            : throw new LoyaltyException($"Member {memberId} is not known at this store; points can be redeemed once HQ has sent the member.");
        if (points > balance)
        {
            throw new LoyaltyException($"Member {memberId} has {balance} points; {points} cannot be redeemed.");
        }

        var left = await AllowanceLeftAsync(connection, cancellationToken);
        if (points > left)
        {
            throw new LoyaltyException(left <= 0
                ? "This store has no points redemption allowance left; HQ tops it up when the store is connected."
                : $"This store may let members redeem {left} more points before HQ tops up its allowance; {points} is too many.");
        }
    }

    private static async Task<long> AllowanceLeftAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT a.points + coalesce((SELECT sum(points) FROM loyalty_deltas d WHERE d.redeemed = 1 AND d.seq > a.since_seq), 0)
            FROM loyalty_allowance a WHERE k = 1
            """;
        return await command.ExecuteScalarAsync(cancellationToken) is long left ? left : 0;
    }
}
