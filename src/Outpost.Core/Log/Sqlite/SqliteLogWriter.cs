using System.Text;
using Microsoft.Data.Sqlite;
using Outpost.Core.Events;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// The log's single writer: owns the write connection and its prepared commands, assigns sequences,
/// origin sequences and clock timestamps, and commits a group of appends in one transaction.
/// Only the writer loop calls it, so it needs no locks.
/// </summary>
internal sealed class SqliteLogWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly HybridLogicalClock _clock;
    private readonly Dictionary<string, NodeState> _nodes;
    private readonly NodeState _self;
    private readonly RawStatement _insertLocal;
    private readonly RawStatement _insertReplica;
    private readonly Utf8Cache<string> _names = new(static s => s);
    private readonly Utf8Cache<Scope> _scopes = new(static s => s.ToString());
    private byte[] _scratch = new byte[1024];
    private readonly SqliteCommand _findByOrigin;
    private readonly SqliteCommand _findOwn;
    private readonly SqliteCommand _insertNode;
    private readonly SqliteCommand _updateNode;
    private readonly SqliteCommand _upsertCursor;
    private readonly SqliteCommand _writeMeta;
    private readonly List<(NodeState Node, long Contiguous, long Max)> _undo = [];
    private readonly List<NodeState> _added = [];
    private readonly HashSet<NodeState> _dirty = [];
    private long _lastSeq;

    public SqliteLogWriter(SqliteConnection connection, HybridLogicalClock clock, Dictionary<string, NodeState> nodes, NodeState self, long lastSeq, SemaphoreSlim writeGate)
    {
        _writeGate = writeGate;
        _connection = connection;
        _clock = clock;
        _nodes = nodes;
        _self = self;
        _lastSeq = lastSeq;
        const string insert = """
            INSERT INTO events(seq, topic, type, version, key, origin_id, origin_seq, hlc, scope, correlation_id, causation_id, payload, checksum, trace)
            VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """;
        _insertLocal = new RawStatement(connection, insert);
        _insertReplica = new RawStatement(connection, insert + " ON CONFLICT(origin_id, origin_seq) WHERE origin_id > 1 DO NOTHING");
        // "origin_id > 1" lets SQLite use the partial origin index (it holds replicated events only).
        _findByOrigin = Prepare("SELECT seq FROM events WHERE origin_id = $origin_id AND origin_seq = $origin_seq AND origin_id > 1", "$origin_id", "$origin_seq");
        _findOwn = Prepare("SELECT seq FROM events WHERE origin_id = 1 AND origin_seq = $origin_seq", "$origin_seq");
        _insertNode = Prepare("INSERT INTO nodes(name) VALUES($name) RETURNING id", "$name");
        _updateNode = Prepare("UPDATE nodes SET contiguous_seq = $contiguous, max_seq = $max WHERE id = $id", "$contiguous", "$max", "$id");
        _upsertCursor = Prepare(SqliteLogCommands.UpsertCursor, "$name", "$kind", "$value");
        _writeMeta = Prepare("""
            INSERT INTO meta(key, value) VALUES('last_seq', $last_seq), ('hlc_high', $hlc_high)
            ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)
            """, "$last_seq", "$hlc_high");
    }

    public long LastSeq => _lastSeq;

    private readonly SemaphoreSlim _writeGate;

    /// <summary>Writes every request of the group in one transaction; on failure nothing of it stays.</summary>
    public void Commit(IReadOnlyList<AppendRequest> group)
    {
        var lastSeq = _lastSeq;
        _undo.Clear();
        _added.Clear();
        _dirty.Clear();

        // Every writer of the file takes turns here, so none of them sleeps in SQLite's busy handler.
        _writeGate.Wait();
        try
        {
            CommitLocked(group, lastSeq);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void CommitLocked(IReadOnlyList<AppendRequest> group, long lastSeq)
    {
        using var tx = _connection.BeginTransaction();
        try
        {
            Enlist(tx);
            foreach (var request in group)
            {
                for (var i = 0; i < request.Events.Count; i++)
                {
                    request.Results[i] = Append(request.Events[i], request.ContentHashes[i]);
                }

                if (request.Cursor is { } cursor)
                {
                    SqliteLogCommands.SetCursor(_upsertCursor, cursor.Name, cursor.Kind, cursor.Value);
                }
            }

            // Only replicated origins are written here: this node's own position is read back from its newest
            // event at open (retention saves it before it deletes). The last sequence is kept in meta on every
            // commit, because it is how verification knows which records a damaged file should still hold.
            foreach (var node in _dirty)
            {
                if (node == _self)
                {
                    continue;
                }

                _updateNode.Parameters[0].Value = node.Contiguous;
                _updateNode.Parameters[1].Value = node.Max;
                _updateNode.Parameters[2].Value = node.Id;
                _updateNode.ExecuteNonQuery();
            }

            _writeMeta.Parameters[0].Value = _lastSeq;
            _writeMeta.Parameters[1].Value = _clock.Last.Value;
            _writeMeta.ExecuteNonQuery();
            tx.Commit();
        }
        catch
        {
            _lastSeq = lastSeq;
            for (var i = _undo.Count - 1; i >= 0; i--)
            {
                var (node, contiguous, max) = _undo[i];
                node.Contiguous = contiguous;
                node.Max = max;
            }

            foreach (var node in _added)
            {
                _nodes.Remove(node.Name);
            }

            throw;
        }
    }

    private AppendResult Append(NewEvent e, ulong contentHash)
    {
        NodeState node;
        long originSeq;
        long hlc;
        if (e.Origin is { } origin)
        {
            node = NodeFor(origin.Node.Value);
            originSeq = origin.Seq;
            hlc = origin.Timestamp.Value;
            _clock.Observe(origin.Timestamp);
            if (node == _self && originSeq <= _self.Max)
            {
                // This node's own event coming back (a store restored from HQ): every own origin seq up to
                // Max was assigned here, so it is a duplicate. Own events are not in the origin index (they
                // cannot repeat otherwise), so this rare path looks the sequence up by scanning.
                return new AppendResult(FindOwn(originSeq), Duplicate: true);
            }
        }
        else
        {
            node = _self;
            originSeq = _self.Max + 1;
            hlc = _clock.Now().Value;
        }

        var seq = _lastSeq + 1;
        var insert = node == _self ? _insertLocal : _insertReplica;
        var topic = _names.Get(e.Topic);
        var type = _names.Get(e.Type);
        var scope = _scopes.Get(e.Scope);

        // The unique strings go one after another into one scratch buffer.
        var used = 0;
        var key = Encode(e.Key, ref used);
        var correlation = Encode(e.CorrelationId, ref used);
        var causation = Encode(e.CausationId, ref used);
        var trace = Encode(e.TraceParent, ref used);
        insert.Bind(1, seq);
        insert.BindText(2, topic);
        insert.BindText(3, type);
        insert.Bind(4, e.Version);
        insert.BindText(5, key);
        insert.Bind(6, node.Id);
        insert.Bind(7, originSeq);
        insert.Bind(8, hlc);
        insert.BindText(9, scope);
        BindOptional(insert, 10, correlation, e.CorrelationId is null);
        BindOptional(insert, 11, causation, e.CausationId is null);
        insert.BindBlob(12, e.Payload.Span);
        insert.Bind(13, unchecked((long)EventChecksum.Seal(contentHash, seq, originSeq, hlc)));
        BindOptional(insert, 14, trace, e.TraceParent is null);
        if (insert.Execute() == 0)
        {
            _findByOrigin.Parameters[0].Value = node.Id;
            _findByOrigin.Parameters[1].Value = originSeq;
            var existing = (long)_findByOrigin.ExecuteScalar()!;
            return new AppendResult(existing, Duplicate: true);
        }

        _lastSeq = seq;
        Advance(node, originSeq);
        return new AppendResult(seq, Duplicate: false);
    }

    private long FindOwn(long originSeq)
    {
        _findOwn.Parameters[0].Value = originSeq;

        // Seq 0: recorded here once, since removed by retention; it is not appended again either way.
        return _findOwn.ExecuteScalar() is long seq ? seq : 0;
    }

    private void Advance(NodeState node, long originSeq)
    {
        if (_dirty.Add(node))
        {
            _undo.Add((node, node.Contiguous, node.Max));
        }

        node.Max = Math.Max(node.Max, originSeq);
        if (originSeq != node.Contiguous + 1)
        {
            return;
        }

        node.Contiguous = originSeq;
        while (node.Contiguous < node.Max && Exists(node.Id, node.Contiguous + 1))
        {
            node.Contiguous++;
        }
    }

    private bool Exists(int nodeId, long originSeq)
    {
        _findByOrigin.Parameters[0].Value = nodeId;
        _findByOrigin.Parameters[1].Value = originSeq;
        return _findByOrigin.ExecuteScalar() is not null;
    }

    private NodeState NodeFor(string name)
    {
        if (_nodes.TryGetValue(name, out var node))
        {
            return node;
        }

        _insertNode.Parameters[0].Value = name;
        var id = Convert.ToInt32(_insertNode.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        node = new NodeState(id, name, 0, 0);
        _nodes.Add(name, node);
        _added.Add(node);
        return node;
    }

    private ReadOnlySpan<byte> Encode(string? value, ref int used)
    {
        if (value is null)
        {
            return default;
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_scratch.Length - used < max)
        {
            // Earlier spans keep the old buffer alive; later ones go in the new one.
            _scratch = new byte[Math.Max(_scratch.Length * 2, max)];
            used = 0;
        }

        var written = Encoding.UTF8.GetBytes(value, _scratch.AsSpan(used));
        var span = new ReadOnlySpan<byte>(_scratch, used, written);
        used += written;
        return span;
    }

    private static void BindOptional(RawStatement insert, int index, ReadOnlySpan<byte> utf8, bool isNull)
    {
        if (isNull)
        {
            insert.BindNull(index);
        }
        else
        {
            insert.BindText(index, utf8);
        }
    }

    private void Enlist(SqliteTransaction tx)
    {
        _findByOrigin.Transaction = tx;
        _findOwn.Transaction = tx;
        _insertNode.Transaction = tx;
        _updateNode.Transaction = tx;
        _upsertCursor.Transaction = tx;
        _writeMeta.Transaction = tx;
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    public void Dispose()
    {
        _insertLocal.Dispose();
        _insertReplica.Dispose();
        _findByOrigin.Dispose();
        _findOwn.Dispose();
        _insertNode.Dispose();
        _updateNode.Dispose();
        _upsertCursor.Dispose();
        _writeMeta.Dispose();
    }
}
