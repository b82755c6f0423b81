using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Log;

namespace Outpost.Central.Ingest;

/// <summary>
/// Who runs a read model when several HQ nodes share one database: a row per consumer in <c>hq_leases</c> with its
/// holder, an epoch and an expiry. A node takes a lease that is free or expired (the epoch goes up), renews it
/// while it runs, and fences every read-model transaction with it: the fence updates the lease row in the
/// transaction, so a takeover waits for that transaction to end, and a node whose lease moved on (or expired while
/// it stalled) fails the fence and rolls back. So each event affects each read model once, whichever nodes run.
/// The SQL is the subset SQLite and PostgreSQL share; on SQLite (one node) the lease is simply always this node's.
/// </summary>
public sealed class ConsumerLease(IEventLog log, string consumer, string holder, TimeProvider time, TimeSpan ttl)
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_leases(
            name       TEXT   PRIMARY KEY,
            holder     TEXT   NOT NULL,
            epoch      BIGINT NOT NULL,
            expires_at BIGINT NOT NULL)
        """;

    /// <summary>The consumer the lease is for.</summary>
    public string Consumer { get; } = consumer;

    /// <summary>Takes the lease if it is free, expired, or this holder's already; returns the new epoch, or null when another node holds it.</summary>
    public async Task<long?> TryAcquireAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        await tx.ExecuteAsync("""
            INSERT INTO hq_leases(name, holder, epoch, expires_at) VALUES(@name, @holder, 1, @expires)
            ON CONFLICT(name) DO UPDATE SET holder = @holder, epoch = hq_leases.epoch + 1, expires_at = @expires
            WHERE hq_leases.expires_at < @now OR hq_leases.holder = @holder
            """, cancellationToken, ("@name", Consumer), ("@holder", holder), ("@expires", now + (long)ttl.TotalMilliseconds), ("@now", now));
        await using var read = tx.CreateCommand("SELECT epoch FROM hq_leases WHERE name = @name AND holder = @holder").With("@name", Consumer).With("@holder", holder);
        var epoch = await read.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : (long?)null;
        await tx.CommitAsync(cancellationToken);
        return epoch;
    }

    /// <summary>Extends the lease; false when it is no longer this holder's at this epoch.</summary>
    public async Task<bool> RenewAsync(long epoch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        var renewed = await tx.ExecuteAsync("UPDATE hq_leases SET expires_at = @expires WHERE name = @name AND holder = @holder AND epoch = @epoch AND expires_at >= @now",
            cancellationToken, ("@expires", now + (long)ttl.TotalMilliseconds), ("@name", Consumer), ("@holder", holder), ("@epoch", epoch), ("@now", now));
        await tx.CommitAsync(cancellationToken);
        return renewed == 1;
    }

    /// <summary>The fence for <see cref="ConsumerOptions.Fence"/> at <paramref name="epoch"/>.</summary>
    public Func<ILogTransaction, CancellationToken, ValueTask> FenceAt(long epoch) => async (tx, cancellationToken) =>
    {
        // An update, not a read: it locks the row until the transaction ends, so nobody takes over meanwhile.
        var held = await tx.ExecuteAsync("UPDATE hq_leases SET epoch = epoch WHERE name = @name AND holder = @holder AND epoch = @epoch AND expires_at >= @now",
            cancellationToken, ("@name", Consumer), ("@holder", holder), ("@epoch", epoch), ("@now", time.GetUtcNow().ToUnixTimeMilliseconds()));
        if (held != 1)
        {
            throw new LeaseLostException($"This node no longer holds the lease for read model '{Consumer}' (epoch {epoch}); another node runs it.");
        }
    };
}
