using Npgsql;
using Outpost.Core.Log;

namespace Outpost.Core.Postgres;

/// <summary>SQL shared by the writer, readers and transactions, so each statement exists once.</summary>
internal static class PostgresLogCommands
{
    public const string SelectColumns = """
        SELECT e.seq, e.topic, e.type, e.version, e.key, n.name, e.origin_seq, e.hlc, e.scope,
               e.correlation_id, e.causation_id, e.payload, e.checksum
        FROM events e JOIN nodes n ON n.id = e.origin_id
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
