using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Outpost.Core.Log.Sqlite;

/// <summary>SQL shared by the writer, readers and transactions, so each statement exists once.</summary>
internal static class SqliteLogCommands
{
    public const string SelectColumns = """
        SELECT e.seq, e.topic, e.type, e.version, e.key, n.name, e.origin_seq, e.hlc, e.scope,
               e.correlation_id, e.causation_id, e.payload, e.checksum, e.trace
        FROM events e JOIN nodes n ON n.id = e.origin_id
        """;

    /// <summary><see cref="SelectColumns"/> on a file that may predate the trace column (the verifier opens any file read-only).</summary>
    public static string SelectColumnsOn(SqliteConnection connection) =>
        SqliteLogSchema.HasColumn(connection, null, "events", "trace") ? SelectColumns : SelectColumns.Replace("e.trace", "NULL", StringComparison.Ordinal);

    public const string UpsertCursor = """
        INSERT INTO cursors(name, kind, value) VALUES($name, $kind, $value)
        ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, value = excluded.value
        """;

    public static void SetCursor(SqliteCommand command, string name, CursorKind kind, long value)
    {
        command.Parameters[0].Value = name;
        command.Parameters[1].Value = (int)kind;
        command.Parameters[2].Value = value;
        command.ExecuteNonQuery();
    }

    public static bool IsCorruption(SqliteException ex) =>
        ex.SqliteErrorCode is 11 /* SQLITE_CORRUPT */ or 26 /* SQLITE_NOTADB */ or 13 /* SQLITE_FULL while reading a short file */
        || ex.SqliteExtendedErrorCode is 522 /* SQLITE_IOERR_SHORT_READ */;

    public static string Placeholders(string prefix, int count) =>
        string.Join(", ", Enumerable.Range(0, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)));
}
