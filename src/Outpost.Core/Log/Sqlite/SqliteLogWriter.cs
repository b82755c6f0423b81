using System.Runtime.InteropServices;
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
    private readonly EventChecksum _checksum = new();
    private readonly Dictionary<string, NodeState> _nodes;
    private readonly NodeState _self;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _findByOrigin;
    private readonly SqliteCommand _insertNode;
    private readonly SqliteCommand _updateNode;
    private readonly SqliteCommand _writeMeta;
    private readonly SqliteCommand _upsertCursor;
    private readonly List<(NodeState Node, long Contiguous, long Max)> _undo = [];
    private readonly List<NodeState> _added = [];
    private readonly HashSet<NodeState> _dirty = [];
    private long _lastSeq;

    public SqliteLogWriter(SqliteConnection connection, HybridLogicalClock clock, Dictionary<string, NodeState> nodes, NodeState self, long lastSeq)
    {
        _connection = connection;
        _clock = clock;
        _nodes = nodes;
        _self = self;
        _lastSeq = lastSeq;
        _insert = Prepare("""
            INSERT INTO events(seq, topic, type, version, key, origin_id, origin_seq, hlc, scope, correlation_id, causation_id, payload, checksum)
            VALUES($seq, $topic, $type, $version, $key, $origin_id, $origin_seq, $hlc, $scope, $correlation_id, $causation_id, $payload, $checksum)
            ON CONFLICT(origin_id, origin_seq) DO NOTHING
            """, "$seq", "$topic", "$type", "$version", "$key", "$origin_id", "$origin_seq", "$hlc", "$scope", "$correlation_id", "$causation_id", "$payload", "$checksum");
        _findByOrigin = Prepare("SELECT seq FROM events WHERE origin_id = $origin_id AND origin_seq = $origin_seq", "$origin_id", "$origin_seq");
        _insertNode = Prepare("INSERT INTO nodes(name) VALUES($name) RETURNING id", "$name");
        _updateNode = Prepare("UPDATE nodes SET contiguous_seq = $contiguous, max_seq = $max WHERE id = $id", "$contiguous", "$max", "$id");
        _writeMeta = Prepare("""
            INSERT INTO meta(key, value) VALUES('last_seq', $last_seq), ('hlc_high', $hlc_high)
            ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)
            """, "$last_seq", "$hlc_high");
        _upsertCursor = Prepare(SqliteLogCommands.UpsertCursor, "$name", "$kind", "$value");
    }

    public long LastSeq => _lastSeq;

    /// <summary>Writes every request of the group in one transaction; on failure nothing of it stays.</summary>
    public void Commit(IReadOnlyList<AppendRequest> group)
    {
        var lastSeq = _lastSeq;
        _undo.Clear();
        _added.Clear();
        _dirty.Clear();
        using var tx = _connection.BeginTransaction();
        try
        {
            Enlist(tx);
            foreach (var request in group)
            {
                for (var i = 0; i < request.Events.Count; i++)
                {
                    request.Results[i] = Append(request.Events[i]);
                }

                if (request.Cursor is { } cursor)
                {
                    SqliteLogCommands.SetCursor(_upsertCursor, cursor.Name, cursor.Kind, cursor.Value);
                }
            }

            foreach (var node in _dirty)
            {
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

    public long ContiguousOf(string node) => _nodes.TryGetValue(node, out var state) ? state.Contiguous : 0;

    private AppendResult Append(NewEvent e)
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
        }
        else
        {
            node = _self;
            originSeq = _self.Max + 1;
            hlc = _clock.Now().Value;
        }

        var seq = _lastSeq + 1;
        var scope = e.Scope.ToString();
        var checksum = _checksum.Compute(seq, e.Topic, e.Type, e.Version, e.Key, node.Name, originSeq, hlc, scope, e.CorrelationId, e.CausationId, e.Payload.Span);
        var p = _insert.Parameters;
        p[0].Value = seq;
        p[1].Value = e.Topic;
        p[2].Value = e.Type;
        p[3].Value = e.Version;
        p[4].Value = e.Key;
        p[5].Value = node.Id;
        p[6].Value = originSeq;
        p[7].Value = hlc;
        p[8].Value = scope;
        p[9].Value = (object?)e.CorrelationId ?? DBNull.Value;
        p[10].Value = (object?)e.CausationId ?? DBNull.Value;
        p[11].Value = AsArray(e.Payload);
        p[12].Value = unchecked((long)checksum);
        if (_insert.ExecuteNonQuery() == 0)
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

    private static byte[] AsArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();

    private void Enlist(SqliteTransaction tx)
    {
        _insert.Transaction = tx;
        _findByOrigin.Transaction = tx;
        _insertNode.Transaction = tx;
        _updateNode.Transaction = tx;
        _writeMeta.Transaction = tx;
        _upsertCursor.Transaction = tx;
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
        _insert.Dispose();
        _findByOrigin.Dispose();
        _insertNode.Dispose();
        _updateNode.Dispose();
        _writeMeta.Dispose();
        _upsertCursor.Dispose();
    }
}
