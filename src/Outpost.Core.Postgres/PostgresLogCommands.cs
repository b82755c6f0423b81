using Npgsql;
using Outpost.Core.Log;

namespace Outpost.Core.Postgres;

/// <summary>SQL shared by the writer, readers and transactions, so each statement exists once.</summary>
internal static class PostgresLogCommands
{
    /// <summary>
    /// An event's columns, its origin's name looked up for each row returned. Not a join: with statistics taken
    /// before a large ingest, PostgreSQL planned reads joined to <c>nodes</c> as a loop over every node, each scanning
    /// that node's rows in the idempotence index (measured: 0.6-3.1 s for a read of a few positions, right after a
    /// million events arrived, so HQ's down feed took seconds to see a price change). With <c>events</c> the only
    /// table, a read is a range on the primary key.
    /// </summary>
    public const string SelectColumns = """
        SELECT e.seq, e.topic, e.type, e.version, e.key, (SELECT n.name FROM nodes n WHERE n.id = e.origin_id), e.origin_seq, e.hlc, e.scope,
               e.correlation_id, e.causation_id, e.payload, e.checksum, e.trace
        FROM events e
        """;

    public const string UpsertCursor = """
        INSERT INTO cursors(name, kind, value) VALUES($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, value = excluded.value
        """;

    public static async Task SetCursorAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string name, CursorKind kind, long value, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(UpsertCursor, connection, tx);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue((int)kind);
        command.Parameters.AddWithValue(value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
