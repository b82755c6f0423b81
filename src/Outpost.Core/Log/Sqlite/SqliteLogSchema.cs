using Microsoft.Data.Sqlite;

namespace Outpost.Core.Log.Sqlite;

/// <summary>The log's tables. Schema changes add a step and bump <see cref="Version"/>; a newer file is refused.</summary>
internal static class SqliteLogSchema
{
    public const int Version = 1;

    /// <summary>The row id of the node that owns the log.</summary>
    public const int SelfId = 1;

    private const string Create = """
        CREATE TABLE IF NOT EXISTS meta(
            key   TEXT PRIMARY KEY,
            value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS nodes(
            id             INTEGER PRIMARY KEY,
            name           TEXT NOT NULL UNIQUE,
            contiguous_seq INTEGER NOT NULL DEFAULT 0,
            max_seq        INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS events(
            seq            INTEGER PRIMARY KEY,
            topic          TEXT    NOT NULL,
            type           TEXT    NOT NULL,
            version        INTEGER NOT NULL,
            key            TEXT    NOT NULL,
            origin_id      INTEGER NOT NULL,
            origin_seq     INTEGER NOT NULL,
            hlc            INTEGER NOT NULL,
            scope          TEXT    NOT NULL,
            correlation_id TEXT,
            causation_id   TEXT,
            payload        BLOB    NOT NULL,
            checksum       INTEGER NOT NULL,
            trace          TEXT);
        -- Only replicated events need the index: a local event's origin seq is assigned by the writer and
        -- cannot repeat, and this node is always nodes.id 1.
        CREATE UNIQUE INDEX IF NOT EXISTS events_by_origin ON events(origin_id, origin_seq) WHERE origin_id > 1;

        CREATE TABLE IF NOT EXISTS cursors(
            name  TEXT PRIMARY KEY,
            kind  INTEGER NOT NULL,
            value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS dead_letters(
            consumer  TEXT    NOT NULL,
            seq       INTEGER NOT NULL,
            topic     TEXT    NOT NULL,
            type      TEXT    NOT NULL,
            attempts  INTEGER NOT NULL,
            error     TEXT    NOT NULL,
            parked_at INTEGER NOT NULL,
            PRIMARY KEY(consumer, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS topic_evictions(
            topic  TEXT PRIMARY KEY,
            events INTEGER NOT NULL,
            bytes  INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS topic_floors(
            topic           TEXT PRIMARY KEY,
            removed_through INTEGER NOT NULL) WITHOUT ROWID;
        """;

    /// <summary>Whether a table of the file has a column (a file written by an earlier release may lack an additive one).</summary>
    public static bool HasColumn(SqliteConnection connection, SqliteTransaction? tx, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column";
        command.Parameters.AddWithValue("$table", table);
        command.Parameters.AddWithValue("$column", column);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    public static void Apply(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Version)
        {
            throw new InvalidOperationException($"Log '{path}' has schema version {version}; this software knows up to {Version}. Upgrade Outpost before opening it.");
        }

        using var tx = connection.BeginTransaction();
        command.Transaction = tx;
        // Additive changes, which the previous release reads and writes as before (it names its columns), keep the
        // version, so a store can still roll back: the envelope's W3C trace context (null in older records).
        var steps = version == 1 && !HasColumn(connection, tx, "events", "trace") ? "\nALTER TABLE events ADD COLUMN trace TEXT;" : string.Empty;
        command.CommandText = Create + steps + $"\nPRAGMA user_version = {Version};";
        command.ExecuteNonQuery();
        tx.Commit();
    }
}
