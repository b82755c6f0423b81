using System.Data.Common;
using System.Globalization;

namespace Outpost.Core.Log;

/// <summary>The log's reports that read the same on every database under it (SQLite and PostgreSQL share this SQL).</summary>
internal static class LogQueries
{
    public static async Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(DbConnection connection, string? consumer, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = DeadLetterColumns + (consumer is null ? "" : " WHERE consumer = @consumer") + " ORDER BY consumer, seq";
        if (consumer is not null)
        {
            command.With("@consumer", consumer);
        }

        return await ReadDeadLettersAsync(command, cancellationToken);
    }

    public static async Task<DeadLetterPage> LatestDeadLettersAsync(DbConnection connection, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 0);
        await using var command = connection.CreateCommand();
        command.CommandText = DeadLetterColumns + " ORDER BY parked_at DESC, seq DESC, consumer LIMIT @max";
        command.With("@max", max);
        var latest = await ReadDeadLettersAsync(command, cancellationToken);
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM dead_letters";
        return new DeadLetterPage(Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture), latest);
    }

    private const string DeadLetterColumns = "SELECT consumer, seq, topic, type, attempts, error, parked_at FROM dead_letters";

    private static async Task<IReadOnlyList<DeadLetter>> ReadDeadLettersAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            letters.Add(new DeadLetter(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.GetString(5),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
        }

        return letters;
    }

    public static async Task<LogStats> StatsAsync(DbConnection connection, long head, long corruptSeen, CancellationToken cancellationToken)
    {
        var topics = new List<TopicStats>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT t.topic, coalesce(h.events, 0), coalesce(h.bytes, 0), coalesce(v.events, 0), coalesce(v.bytes, 0)
                FROM (SELECT DISTINCT topic FROM events UNION SELECT topic FROM topic_evictions) t
                LEFT JOIN (SELECT topic, count(*) AS events, sum(length(payload)) AS bytes FROM events GROUP BY topic) h ON h.topic = t.topic
                LEFT JOIN topic_evictions v ON v.topic = t.topic
                ORDER BY t.topic
                """;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                topics.Add(new TopicStats(reader.GetString(0), Long(reader, 1), Long(reader, 2), Long(reader, 3), Long(reader, 4)));
            }
        }

        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM dead_letters";
        var deadLetters = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        return new LogStats(head, topics.Sum(t => t.Events), topics, deadLetters, corruptSeen);
    }

    public static async Task<long> RemovedThroughAsync(DbConnection connection, IReadOnlyCollection<string> topics, CancellationToken cancellationToken)
    {
        if (topics.Count == 0)
        {
            return 0;
        }

        await using var command = connection.CreateCommand();
        var names = topics.Select((t, i) => (Name: "@t" + i.ToString(CultureInfo.InvariantCulture), Topic: t)).ToList();
        command.CommandText = $"SELECT coalesce(max(removed_through), 0) FROM topic_floors WHERE topic IN ({string.Join(", ", names.Select(n => n.Name))})";
        foreach (var (name, topic) in names)
        {
            command.With(name, topic);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public static async Task<long?> CursorAsync(DbConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM cursors WHERE name = @name";
        command.With("@name", name);
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;
    }

    private static long Long(DbDataReader reader, int column) => Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);
}
