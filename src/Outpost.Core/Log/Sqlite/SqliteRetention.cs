namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// Retention on SQLite: the shared rules (<see cref="LogRetention"/>), plus what only this log needs. It derives
/// its last sequence, clock and own origin position from its newest events at open, and retention may delete
/// those, so they are saved first, and the deletions are counted so verification can tell them from lost records;
/// all in the same transaction.
/// </summary>
internal static class SqliteRetention
{
    public static async Task<RetentionReport> ApplyAsync(SqliteLogTransaction tx, Topics.TopicCatalog catalog, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await tx.ExecuteAsync("""
            INSERT INTO meta(key, value) VALUES
                ('last_seq', (SELECT coalesce(max(seq), 0) FROM events)),
                ('hlc_high', (SELECT coalesce(max(hlc), 0) FROM events))
            ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value);
            UPDATE nodes SET max_seq = max(max_seq, coalesce((SELECT origin_seq FROM events WHERE origin_id = 1 ORDER BY seq DESC LIMIT 1), 0)),
                             contiguous_seq = max(contiguous_seq, coalesce((SELECT origin_seq FROM events WHERE origin_id = 1 ORDER BY seq DESC LIMIT 1), 0))
            WHERE id = 1;
            """, cancellationToken);
        var report = await LogRetention.ApplyAsync(tx, catalog, now, cancellationToken);
        if (report.Total > 0)
        {
            await tx.ExecuteAsync("INSERT INTO meta(key, value) VALUES('deleted_events', @n) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                cancellationToken, ("@n", report.Total));
        }

        return report;
    }
}
