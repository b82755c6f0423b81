using System.Collections.Concurrent;
using System.Text;
using Microsoft.Data.Sqlite;
using Outpost.Core.Events;
using SQLitePCL;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// The read path on the native handle: steps a prepared query of <see cref="SqliteLogCommands.SelectColumns"/>,
/// checks each row's checksum over the UTF-8 bytes as stored (no string round trip), and builds events
/// with one shared instance per repeated value (topic, type, scope, origin).
/// </summary>
internal sealed class RowReader : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly Values _values;

    public RowReader(SqliteConnection connection, string sql, Values values)
    {
        _db = connection.Handle!;
        _values = values;
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
    }

    public void Bind(string name, long value) => Check(raw.sqlite3_bind_int64(_statement, Index(name), value));

    public void Bind(string name, string value) => Check(raw.sqlite3_bind_text(_statement, Index(name), value));

    /// <summary>The next row as an event; null at the end.</summary>
    /// <exception cref="LogCorruptionException">The row fails its checksum.</exception>
    public StoredEvent? Next(EventChecksum checksum)
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_DONE)
        {
            return null;
        }

        if (rc != raw.SQLITE_ROW)
        {
            Check(rc);
        }

        // Each column once, on the raw pointer: the spans stay valid until the next step.
        var s = _statement.DangerousGetHandle();
        var seq = NativeSqlite.sqlite3_column_int64(s, 0);
        var topicBytes = NativeSqlite.Column(s, 1);
        var typeBytes = NativeSqlite.Column(s, 2);
        var version = (int)NativeSqlite.sqlite3_column_int64(s, 3);
        var keyBytes = NativeSqlite.Column(s, 4);
        var originBytes = NativeSqlite.Column(s, 5);
        var originSeq = NativeSqlite.sqlite3_column_int64(s, 6);
        var hlc = NativeSqlite.sqlite3_column_int64(s, 7);
        var scopeBytes = NativeSqlite.Column(s, 8);
        var noCorrelation = NativeSqlite.sqlite3_column_type(s, 9) == NativeSqlite.Null;
        var correlationBytes = noCorrelation ? default : NativeSqlite.Column(s, 9);
        var noCausation = NativeSqlite.sqlite3_column_type(s, 10) == NativeSqlite.Null;
        var causationBytes = noCausation ? default : NativeSqlite.Column(s, 10);
        var payload = NativeSqlite.Column(s, 11);
        var stored = unchecked((ulong)NativeSqlite.sqlite3_column_int64(s, 12));
        var actual = EventChecksum.Seal(
            checksum.Content(topicBytes, typeBytes, version, keyBytes, originBytes, scopeBytes, correlationBytes, noCorrelation, causationBytes, noCausation, payload),
            seq, originSeq, hlc);
        if (actual != stored)
        {
            throw new LogCorruptionException(seq, $"Event {seq} is corrupt: its checksum is {stored:x16} but its content hashes to {actual:x16}. It is not served; run 'outpost log verify' on the file.");
        }

        var scopeText = _values.Text(scopeBytes);
        var originText = _values.Text(originBytes);
        if (!_values.TryScope(scopeText, out var scope) || !_values.TryNode(originText, out var node))
        {
            throw new LogCorruptionException(seq, $"Event {seq} has an unreadable scope '{scopeText}' or origin '{originText}'.");
        }

        return new StoredEvent
        {
            Seq = seq,
            Topic = _values.Text(topicBytes),
            Type = _values.Text(typeBytes),
            Version = version,
            Key = Encoding.UTF8.GetString(keyBytes),
            Scope = scope,
            Origin = new EventOrigin(node, originSeq, new HlcTimestamp(hlc)),
            CorrelationId = noCorrelation ? null : Encoding.UTF8.GetString(correlationBytes),
            CausationId = noCausation ? null : Encoding.UTF8.GetString(causationBytes),
            TraceParent = Diagnostics.OutpostTracing.Readable(NativeSqlite.sqlite3_column_type(s, 13) == NativeSqlite.Null ? null : Encoding.ASCII.GetString(NativeSqlite.Column(s, 13))),
            Payload = payload.ToArray(),
        };
    }

    public void Dispose() => _statement.Dispose();

    private int Index(string name)
    {
        var index = raw.sqlite3_bind_parameter_index(_statement, name);
        return index > 0 ? index : throw new InvalidOperationException($"The query has no parameter {name}.");
    }

    private void Check(int rc)
    {
        if (rc is not raw.SQLITE_OK and not raw.SQLITE_DONE and not raw.SQLITE_ROW)
        {
            throw new SqliteException($"SQLite Error {rc}: {raw.sqlite3_errmsg(_db).utf8_to_string()}", rc, raw.sqlite3_extended_errcode(_db));
        }
    }

    /// <summary>One instance per repeated text, scope and node id, shared by a log's readers (bounded).</summary>
    internal sealed class Values
    {
        private const int MaxEntries = 8192;
        private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Scope> _scopes = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, NodeId> _nodes = new(StringComparer.Ordinal);

        public string Text(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > 128)
            {
                return Encoding.UTF8.GetString(utf8);
            }

            Span<char> chars = stackalloc char[128];
            var count = Encoding.UTF8.GetChars(utf8, chars);
            var lookup = _texts.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(chars[..count], out var text))
            {
                return text;
            }

            text = new string(chars[..count]);
            if (_texts.Count < MaxEntries)
            {
                _texts.TryAdd(text, text);
            }

            return text;
        }

        public bool TryScope(string text, out Scope scope)
        {
            if (_scopes.TryGetValue(text, out scope))
            {
                return true;
            }

            if (!Scope.TryParse(text, out scope))
            {
                return false;
            }

            if (_scopes.Count < MaxEntries)
            {
                _scopes.TryAdd(text, scope);
            }

            return true;
        }

        public bool TryNode(string text, out NodeId node)
        {
            if (_nodes.TryGetValue(text, out node))
            {
                return true;
            }

            if (!NodeId.TryParse(text, out node))
            {
                return false;
            }

            if (_nodes.Count < MaxEntries)
            {
                _nodes.TryAdd(text, node);
            }

            return true;
        }
    }
}
