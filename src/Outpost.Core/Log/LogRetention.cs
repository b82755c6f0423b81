using System.Globalization;
using Outpost.Core.Events;
using Outpost.Core.Topics;

namespace Outpost.Core.Log;

/// <summary>
/// Applies topic retention in one transaction, on any database under a log (the SQL is the subset SQLite and
/// PostgreSQL share). An event is done once it is at or below every consumer cursor and, for an up topic, at or
/// below every replication cursor (with no replication cursor yet, nothing of an up topic is done).
/// </summary>
internal static class LogRetention
{
    public static async Task<RetentionReport> ApplyAsync(ILogTransaction tx, TopicCatalog catalog, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var consumersDone = long.MaxValue;
        var replicated = 0L;
        await using (var cursors = tx.CreateCommand("SELECT kind, min(value) FROM cursors WHERE kind IN (0, 1) GROUP BY kind"))
        await using (var reader = await cursors.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var min = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
                if ((CursorKind)Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture) == CursorKind.Consumer)
                {
                    consumersDone = min;
                }
                else
                {
                    replicated = min;
                }
            }
        }

        var deleted = new Dictionary<string, long>(StringComparer.Ordinal);
        var compacted = new Dictionary<string, long>(StringComparer.Ordinal);
        var evicted = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var policy in catalog.Declared)
        {
            var retention = policy.Retention;
            var done = policy.Direction == TopicDirection.Up ? Math.Min(consumersDone, replicated) : consumersDone;
            if (retention.DeleteWhenDoneAfter is { } grace)
            {
                var cutoff = HlcTimestamp.From(Math.Max(0, (now - grace).ToUnixTimeMilliseconds()), 0).Value;
                await using (var highest = tx.CreateCommand("SELECT max(seq) FROM events WHERE topic = @topic AND seq <= @done AND hlc < @cutoff")
                    .With("@topic", policy.Topic).With("@done", done).With("@cutoff", cutoff))
                {
                    if (await highest.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull)
                    {
                        await RaiseFloorAsync(tx, policy.Topic, Convert.ToInt64(value, CultureInfo.InvariantCulture), cancellationToken);
                    }
                }

                Add(deleted, policy.Topic, await tx.ExecuteAsync("DELETE FROM events WHERE topic = @topic AND seq <= @done AND hlc < @cutoff", cancellationToken,
                    ("@topic", policy.Topic), ("@done", done), ("@cutoff", cutoff)));
            }

            if (retention.CompactByKey)
            {
                Add(compacted, policy.Topic, await tx.ExecuteAsync("""
                    DELETE FROM events WHERE topic = @topic AND seq <= @done
                      AND seq NOT IN (SELECT max(seq) FROM events WHERE topic = @topic GROUP BY key)
                    """, cancellationToken, ("@topic", policy.Topic), ("@done", done)));
            }

            if (retention.MaxBytes is { } budget)
            {
                await EvictAsync(tx, policy.Topic, budget, evicted, cancellationToken);
            }
        }

        return new RetentionReport(deleted, compacted, evicted);
    }

    private static async Task EvictAsync(ILogTransaction tx, string topic, long budget, Dictionary<string, long> evicted, CancellationToken cancellationToken)
    {
        long held = 0;
        long cut = 0;
        await using (var scan = tx.CreateCommand("SELECT seq, length(payload) FROM events WHERE topic = @topic ORDER BY seq DESC").With("@topic", topic))
        await using (var reader = await scan.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                held += Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
                if (held > budget)
                {
                    cut = reader.GetInt64(0);
                    break;
                }
            }
        }

        if (cut == 0)
        {
            return;
        }

        long events;
        long bytes;
        await using (var measure = tx.CreateCommand("SELECT count(*), coalesce(sum(length(payload)), 0) FROM events WHERE topic = @topic AND seq <= @cut").With("@topic", topic).With("@cut", cut))
        await using (var reader = await measure.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            events = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
            bytes = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        await tx.ExecuteAsync("DELETE FROM events WHERE topic = @topic AND seq <= @cut", cancellationToken, ("@topic", topic), ("@cut", cut));
        await RaiseFloorAsync(tx, topic, cut, cancellationToken);
        await tx.ExecuteAsync("""
            INSERT INTO topic_evictions(topic, events, bytes) VALUES(@topic, @events, @bytes)
            ON CONFLICT(topic) DO UPDATE SET events = topic_evictions.events + excluded.events, bytes = topic_evictions.bytes + excluded.bytes
            """, cancellationToken, ("@topic", topic), ("@events", events), ("@bytes", bytes));
        Add(evicted, topic, events);
    }

    /// <summary>Records that retention removed events of a topic up to <paramref name="seq"/> (compaction is not: it keeps each key's newest).</summary>
    private static async Task RaiseFloorAsync(ILogTransaction tx, string topic, long seq, CancellationToken cancellationToken) =>
        await tx.ExecuteAsync("""
            INSERT INTO topic_floors(topic, removed_through) VALUES(@topic, @seq)
            ON CONFLICT(topic) DO UPDATE SET removed_through = CASE WHEN excluded.removed_through > topic_floors.removed_through
                THEN excluded.removed_through ELSE topic_floors.removed_through END
            """, cancellationToken, ("@topic", topic), ("@seq", seq));

    private static void Add(Dictionary<string, long> counts, string topic, long count)
    {
        if (count > 0)
        {
            counts[topic] = counts.GetValueOrDefault(topic) + count;
        }
    }
}
