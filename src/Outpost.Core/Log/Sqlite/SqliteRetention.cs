using Microsoft.Data.Sqlite;
using Outpost.Core.Events;
using Outpost.Core.Topics;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// Applies topic retention in one transaction. An event is done once it is at or below every consumer
/// cursor and, for an up topic, at or below every replication cursor (with no replication cursor yet,
/// nothing of an up topic is done).
/// </summary>
internal static class SqliteRetention
{
    public static RetentionReport Apply(SqliteLogTransaction tx, TopicCatalog catalog, DateTimeOffset now)
    {
        // The writer does not record these: a log derives them from its newest events at open. Retention may
        // delete those newest events, so it saves them first, in the same transaction as the deletes.
        using (var save = tx.Command("""
            INSERT INTO meta(key, value) VALUES
                ('last_seq', (SELECT coalesce(max(seq), 0) FROM events)),
                ('hlc_high', (SELECT coalesce(max(hlc), 0) FROM events))
            ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value);
            UPDATE nodes SET max_seq = max(max_seq, coalesce((SELECT origin_seq FROM events WHERE origin_id = 1 ORDER BY seq DESC LIMIT 1), 0)),
                             contiguous_seq = max(contiguous_seq, coalesce((SELECT origin_seq FROM events WHERE origin_id = 1 ORDER BY seq DESC LIMIT 1), 0))
            WHERE id = 1;
            """))
        {
            save.ExecuteNonQuery();
        }

        var consumersDone = long.MaxValue;
        var replicated = 0L;
        using (var cursors = tx.Command("SELECT kind, min(value) FROM cursors WHERE kind IN (0, 1) GROUP BY kind"))
        using (var reader = cursors.ExecuteReader())
        {
            while (reader.Read())
            {
                if ((CursorKind)reader.GetInt32(0) == CursorKind.Consumer)
                {
                    consumersDone = reader.GetInt64(1);
                }
                else
                {
                    replicated = reader.GetInt64(1);
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
                using var delete = tx.Command("DELETE FROM events WHERE topic = $topic AND seq <= $done AND hlc < $cutoff");
                delete.Parameters.AddWithValue("$topic", policy.Topic);
                delete.Parameters.AddWithValue("$done", done);
                delete.Parameters.AddWithValue("$cutoff", cutoff);
                Add(deleted, policy.Topic, delete.ExecuteNonQuery());
            }

            if (retention.CompactByKey)
            {
                using var compact = tx.Command("""
                    DELETE FROM events WHERE topic = $topic AND seq <= $done
                      AND seq NOT IN (SELECT max(seq) FROM events WHERE topic = $topic GROUP BY key)
                    """);
                compact.Parameters.AddWithValue("$topic", policy.Topic);
                compact.Parameters.AddWithValue("$done", done);
                Add(compacted, policy.Topic, compact.ExecuteNonQuery());
            }

            if (retention.MaxBytes is { } budget)
            {
                Evict(tx, policy.Topic, budget, evicted);
            }
        }

        var report = new RetentionReport(deleted, compacted, evicted);
        if (report.Total > 0)
        {
            // Counted so that verification can tell records retention removed from records a damaged file lost.
            using var count = tx.Command("INSERT INTO meta(key, value) VALUES('deleted_events', $n) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value");
            count.Parameters.AddWithValue("$n", report.Total);
            count.ExecuteNonQuery();
        }

        return report;
    }

    private static void Evict(SqliteLogTransaction tx, string topic, long budget, Dictionary<string, long> evicted)
    {
        long held = 0;
        long cut = 0;
        using (var scan = tx.Command("SELECT seq, length(payload) FROM events WHERE topic = $topic ORDER BY seq DESC"))
        {
            scan.Parameters.AddWithValue("$topic", topic);
            using var reader = scan.ExecuteReader();
            while (reader.Read())
            {
                held += reader.GetInt64(1);
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
        using (var measure = tx.Command("SELECT count(*), coalesce(sum(length(payload)), 0) FROM events WHERE topic = $topic AND seq <= $cut"))
        {
            measure.Parameters.AddWithValue("$topic", topic);
            measure.Parameters.AddWithValue("$cut", cut);
            using var reader = measure.ExecuteReader();
            reader.Read();
            events = reader.GetInt64(0);
            bytes = reader.GetInt64(1);
        }

        using (var delete = tx.Command("DELETE FROM events WHERE topic = $topic AND seq <= $cut"))
        {
            delete.Parameters.AddWithValue("$topic", topic);
            delete.Parameters.AddWithValue("$cut", cut);
            delete.ExecuteNonQuery();
        }

        using (var count = tx.Command("""
            INSERT INTO topic_evictions(topic, events, bytes) VALUES($topic, $events, $bytes)
            ON CONFLICT(topic) DO UPDATE SET events = events + excluded.events, bytes = bytes + excluded.bytes
            """))
        {
            count.Parameters.AddWithValue("$topic", topic);
            count.Parameters.AddWithValue("$events", events);
            count.Parameters.AddWithValue("$bytes", bytes);
            count.ExecuteNonQuery();
        }

        Add(evicted, topic, events);
    }

    private static void Add(Dictionary<string, long> counts, string topic, long count)
    {
        if (count > 0)
        {
            counts[topic] = counts.GetValueOrDefault(topic) + count;
        }
    }
}
