using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;

namespace Outpost.Cli.Simulation;

/// <summary>A sale whose record the simulation damaged in its store's log: its position there and its sale id.</summary>
internal sealed record DamagedSale(long Seq, string SaleId);

/// <summary>
/// A record of a store's log damaged on disk, as bit rot or a bad sector does it: the store's link is cut (held, so no
/// other fault's end lifts it) while its tills go on selling, the store's process is SIGKILLed, one bit of the payload
/// of a sale made after the cut (never sent) is flipped in the file, so its checksum no longer matches, and the store starts
/// again on that file; its link comes back after the fault's length. What must hold (the checker's part): the sale
/// never reaches HQ, every sale after it does, and the store reports it, on its own status and on HQ's fleet view.
/// </summary>
internal static class DamagedRecordFault
{
    /// <summary>Applies the fault; returns the damaged sale, or null when no sale HQ lacked could be found (said on the output).</summary>
    public static async Task<DamagedSale?> ApplyAsync(SimulatedStore store, Fault fault, IEventLog hqLog, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, TextWriter output, Stopwatch starting, CancellationToken cancellationToken)
    {
        store.Link.Severed = true;
        try
        {
            // An up batch HQ had already received when the link was cut may still be appended there after it: only a
            // sale the store appended after the cut (so never sent) is damaged.
            var cut = await HeadAsync(store, cancellationToken);
            var (late, soldAtCut) = (clock.Elapsed - realAt(fault.Start), store.Acknowledged);
            // A sale the store recorded after the cut, and whose till has had its answer (so it is not sent again after
            // the restart): the tills of a busy machine run behind the schedule, and several sales are in flight at the
            // cut, so the wait is for such a sale in the log itself, five minutes of real time at most.
            var waiting = Stopwatch.StartNew();
            var seen = (Recorded: 0, Answered: 0);
            while ((seen = await AfterAsync(store, cut, cancellationToken)).Answered == 0 && waiting.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(100, cancellationToken);
            }

            await store.KillAsync();
            var damaged = await DamageAsync(store, hqLog, cut, cancellationToken);
            if (damaged is not null)
            {
                store.Damaged.Enqueue(damaged);
            }

            // When none is found, what the fault saw says why: its tills idle or behind, or the sales not in the log.
            output.WriteLine(damaged is null
                ? $"  {store.Id}: no sale HQ lacked to damage at {fault.Start.TotalHours:F2} simulated hours (in five minutes of its link cut, no sale was recorded and answered to its till): "
                  + $"the cut at event {cut}, {late.TotalSeconds:F1} s real after its planned moment; sales recorded after it {seen.Recorded}, answered {seen.Answered}; "
                  + $"its tills' answered sales {soldAtCut} at the cut, {store.Acknowledged} after the wait"
                : $"  {store.Id}: sale {damaged.SaleId} (event {damaged.Seq} of its log) damaged on disk at {fault.Start.TotalHours:F2} simulated hours");
            starting.Start();
            await store.StartProcessAsync(cancellationToken);
            starting.Stop();
            await Task.Delay(realAt(fault.Duration), cancellationToken);
            return damaged;
        }
        finally
        {
            store.Link.Severed = false;
        }
    }

    /// <summary>
    /// Flips one bit in the payload of the store's earliest completed sale made after the cut, acknowledged to its till, that HQ does not hold, in the file of a store
    /// that is down, through SQLite (so the damage lands wherever the row lives, file or WAL): the row stays readable to
    /// SQLite, and its checksum no longer matches, as after a flipped bit on disk.
    /// </summary>
    private static async Task<DamagedSale?> DamageAsync(SimulatedStore store, IEventLog hqLog, long after, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(store, cancellationToken);
        var candidates = new List<(long Seq, string Key, long OriginSeq, byte[] Payload)>();
        await using (var select = connection.CreateCommand())
        {
            // The up link's persisted checkpoint may lag what HQ acknowledged: HQ is asked about each candidate below.
            select.CommandText = """
                SELECT seq, key, origin_seq, payload FROM events
                WHERE topic = $topic AND type = $type AND origin_id = 1
                  AND seq > coalesce((SELECT value FROM cursors WHERE name = 'up:hq:critical'), 0) AND seq > $after
                ORDER BY seq
                """;
            select.Parameters.AddWithValue("$after", after);
            select.Parameters.AddWithValue("$topic", CheckoutEvents.SalesTopic);
            select.Parameters.AddWithValue("$type", CheckoutEvents.SaleCompleted);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                candidates.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), (byte[])reader[3]));
            }
        }

        var origin = NodeId.Parse(store.Id);
        foreach (var (seq, key, originSeq, payload) in candidates)
        {
            if (!store.WasAcknowledged(key) || await hqLog.HoldsOriginAsync(origin, originSeq, cancellationToken))
            {
                continue;
            }

            payload[payload.Length / 2] ^= 0x01;
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE events SET payload = $payload WHERE seq = $seq";
            update.Parameters.AddWithValue("$payload", payload);
            update.Parameters.AddWithValue("$seq", seq);
            await update.ExecuteNonQueryAsync(cancellationToken);
            return new DamagedSale(seq, key); // a completed sale's key is its sale id
        }

        return null;
    }

    /// <summary>The completed sales the store's log holds after <paramref name="cut"/>, and how many of them their till has had its answer for.</summary>
    private static async Task<(int Recorded, int Answered)> AfterAsync(SimulatedStore store, long cut, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(store, cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT key FROM events WHERE seq > $cut AND topic = $topic AND type = $type AND origin_id = 1";
        select.Parameters.AddWithValue("$cut", cut);
        select.Parameters.AddWithValue("$topic", CheckoutEvents.SalesTopic);
        select.Parameters.AddWithValue("$type", CheckoutEvents.SaleCompleted);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var (recorded, answered) = (0, 0);
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded++;
            answered += store.WasAcknowledged(reader.GetString(0)) ? 1 : 0;
        }

        return (recorded, answered);
    }

    /// <summary>The last position in the store's log now (the store runs: SQLite's WAL lets a reader in beside it).</summary>
    private static async Task<long> HeadAsync(SimulatedStore store, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(store, cancellationToken);
        await using var head = connection.CreateCommand();
        head.CommandText = "SELECT coalesce(max(seq), 0) FROM events";
        return (long)(await head.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<SqliteConnection> OpenAsync(SimulatedStore store, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.LogPath, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
