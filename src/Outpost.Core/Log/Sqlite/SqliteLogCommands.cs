using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Outpost.Core.Events;

namespace Outpost.Core.Log.Sqlite;

/// <summary>SQL shared by the writer, readers and transactions, so each statement exists once.</summary>
internal static class SqliteLogCommands
{
    public const string SelectColumns = """
        SELECT e.seq, e.topic, e.type, e.version, e.key, n.name, e.origin_seq, e.hlc, e.scope,
               e.correlation_id, e.causation_id, e.payload, e.checksum
        FROM events e JOIN nodes n ON n.id = e.origin_id
        """;

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

    /// <summary>Reads the current row of a <see cref="SelectColumns"/> query and checks its checksum.</summary>
    public static StoredEvent ReadEvent(DbDataReader r, EventChecksum checksum)
    {
        var seq = r.GetInt64(0);
        var topic = r.GetString(1);
        var type = r.GetString(2);
        var version = r.GetInt32(3);
        var key = r.GetString(4);
        var origin = r.GetString(5);
        var originSeq = r.GetInt64(6);
        var hlc = r.GetInt64(7);
        var scopeText = r.GetString(8);
        var correlation = r.IsDBNull(9) ? null : r.GetString(9);
        var causation = r.IsDBNull(10) ? null : r.GetString(10);
        var payload = r.GetFieldValue<byte[]>(11);
        var stored = unchecked((ulong)r.GetInt64(12));
        var actual = checksum.Compute(seq, topic, type, version, key, origin, originSeq, hlc, scopeText, correlation, causation, payload);
        if (actual != stored)
        {
            throw new LogCorruptionException(seq, $"Event {seq} is corrupt: its checksum is {stored:x16} but its content hashes to {actual:x16}. It is not served; run 'outpost log verify' on the file.");
        }

        if (!Scope.TryParse(scopeText, out var scope) || !NodeId.TryParse(origin, out var node))
        {
            throw new LogCorruptionException(seq, $"Event {seq} has an unreadable scope '{scopeText}' or origin '{origin}'.");
        }

        return new StoredEvent
        {
            Seq = seq,
            Topic = topic,
            Type = type,
            Version = version,
            Key = key,
            Scope = scope,
            Origin = new EventOrigin(node, originSeq, new HlcTimestamp(hlc)),
            CorrelationId = correlation,
            CausationId = causation,
            Payload = payload,
        };
    }

    public static string Placeholders(string prefix, int count) =>
        string.Join(", ", Enumerable.Range(0, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)));
}
