using Npgsql;
using NpgsqlTypes;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Core.Postgres;

/// <summary>
/// Commits one group of appends in one PostgreSQL transaction. Every writer of the database, on every HQ node,
/// first locks the single <c>log_head</c> row, so sequences are assigned and committed in one order across
/// nodes: a reader that has seen sequence N has seen every sequence below it. Node positions are read inside
/// that lock, so nodes sharing one node id (several HQ nodes) never hand out the same origin sequence.
/// </summary>
internal sealed class PostgresLogWriter(NpgsqlDataSource source, HybridLogicalClock clock, NodeId self, LogDurability durability)
{
    private const string Columns = "seq, topic, type, version, key, origin_id, origin_seq, hlc, scope, correlation_id, causation_id, payload, checksum";

    /// <summary>Writes every request of the group in one transaction; returns the new head. On failure nothing of it stays.</summary>
    public async Task<long> CommitAsync(IReadOnlyList<AppendRequest> group, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        if (durability == LogDurability.Normal)
        {
            await ExecuteAsync(connection, tx, "SET LOCAL synchronous_commit = off", cancellationToken);
        }

        long head;
        await using (var lockHead = new NpgsqlCommand("SELECT seq, hlc FROM log_head WHERE id = 1 FOR UPDATE", connection, tx))
        await using (var reader = await lockHead.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            head = reader.GetInt64(0);
            clock.Observe(new HlcTimestamp(reader.GetInt64(1)));
        }

        var nodes = await LoadNodesAsync(connection, tx, group, cancellationToken);
        var existing = await FindExistingAsync(connection, tx, group, nodes, cancellationToken);
        var rows = new List<Row>();
        var placed = new Dictionary<(int Node, long OriginSeq), long>();
        var added = new Dictionary<int, SortedSet<long>>();
        var selfNode = nodes[self.Value];
        var startHead = head;
        foreach (var request in group)
        {
            for (var i = 0; i < request.Events.Count; i++)
            {
                var e = request.Events[i];
                Node node;
                long originSeq;
                long hlc;
                if (e.Origin is { } origin)
                {
                    node = nodes[origin.Node.Value];
                    originSeq = origin.Seq;
                    hlc = origin.Timestamp.Value;
                    clock.Observe(origin.Timestamp);
                    if (existing.TryGetValue((node.Id, originSeq), out var seqHeld) || placed.TryGetValue((node.Id, originSeq), out seqHeld))
                    {
                        request.Results[i] = new AppendResult(seqHeld, Duplicate: true);
                        continue;
                    }

                    if (node == selfNode && originSeq <= node.Max)
                    {
                        // This node's own event, recorded here once and since removed by retention.
                        request.Results[i] = new AppendResult(0, Duplicate: true);
                        continue;
                    }
                }
                else
                {
                    node = selfNode;
                    originSeq = node.Max + 1;
                    hlc = clock.Now().Value;
                }

                var seq = ++head;
                rows.Add(new Row(seq, e, node.Id, originSeq, hlc, unchecked((long)EventChecksum.Seal(request.ContentHashes[i], seq, originSeq, hlc))));
                placed[(node.Id, originSeq)] = seq;
                node.Max = Math.Max(node.Max, originSeq);
                node.Dirty = true;
                if (!added.TryGetValue(node.Id, out var seqs))
                {
                    added[node.Id] = seqs = [];
                }

                seqs.Add(originSeq);
                request.Results[i] = new AppendResult(seq, Duplicate: false);
            }
        }

        if (rows.Count > 0)
        {
            await CopyAsync(connection, rows, cancellationToken);
            foreach (var node in nodes.Values.Where(n => n.Dirty))
            {
                await AdvanceContiguousAsync(connection, tx, node, added[node.Id], cancellationToken);
            }

            await UpdateNodesAsync(connection, tx, [.. nodes.Values.Where(n => n.Dirty)], cancellationToken);
        }

        foreach (var request in group)
        {
            if (request.Cursor is { } cursor)
            {
                await PostgresLogCommands.SetCursorAsync(connection, tx, cursor.Name, cursor.Kind, cursor.Value, cancellationToken);
            }
        }

        await using (var moveHead = new NpgsqlCommand("UPDATE log_head SET seq = $1, hlc = greatest(hlc, $2) WHERE id = 1", connection, tx))
        {
            moveHead.Parameters.AddWithValue(head);
            moveHead.Parameters.AddWithValue(clock.Last.Value);
            await moveHead.ExecuteNonQueryAsync(cancellationToken);
        }

        if (head > startHead)
        {
            // Delivered to every listening node when (and only if) the transaction commits.
            await using var notify = new NpgsqlCommand("SELECT pg_notify('outpost_log', $1)", connection, tx);
            notify.Parameters.AddWithValue(head.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await notify.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return head;
    }

    private async Task<Dictionary<string, Node>> LoadNodesAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { self.Value };
        foreach (var request in group)
        {
            foreach (var e in request.Events)
            {
                if (e.Origin is { } origin)
                {
                    names.Add(origin.Node.Value);
                }
            }
        }

        await using (var insert = new NpgsqlCommand("INSERT INTO nodes(name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING", connection, tx))
        {
            insert.Parameters.AddWithValue(names.ToArray());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        await using var select = new NpgsqlCommand("SELECT id, name, contiguous_seq, max_seq FROM nodes WHERE name = ANY($1)", connection, tx);
        select.Parameters.AddWithValue(names.ToArray());
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            nodes.Add(reader.GetString(1), new Node(reader.GetInt32(0)) { Contiguous = reader.GetInt64(2), Max = reader.GetInt64(3) });
        }

        return nodes;
    }

    private static async Task<Dictionary<(int, long), long>> FindExistingAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group,
        Dictionary<string, Node> nodes, CancellationToken cancellationToken)
    {
        var ids = new List<int>();
        var seqs = new List<long>();
        foreach (var request in group)
        {
            foreach (var e in request.Events)
            {
                if (e.Origin is { } origin)
                {
                    ids.Add(nodes[origin.Node.Value].Id);
                    seqs.Add(origin.Seq);
                }
            }
        }

        var existing = new Dictionary<(int, long), long>();
        if (ids.Count == 0)
        {
            return existing;
        }

        await using var find = new NpgsqlCommand("""
            SELECT e.origin_id, e.origin_seq, e.seq
            FROM unnest($1::integer[], $2::bigint[]) AS u(origin_id, origin_seq)
            JOIN events e ON e.origin_id = u.origin_id AND e.origin_seq = u.origin_seq
            """, connection, tx);
        find.Parameters.AddWithValue(ids.ToArray());
        find.Parameters.AddWithValue(seqs.ToArray());
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            existing[(reader.GetInt32(0), reader.GetInt64(1))] = reader.GetInt64(2);
        }

        return existing;
    }

    /// <summary>
    /// Moves a node's gap-free position over what this commit added, then, if events beyond it arrived earlier
    /// out of order, over those too (one indexed query, only when there is such a gap to close).
    /// </summary>
    private static async Task AdvanceContiguousAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Node node, SortedSet<long> added, CancellationToken cancellationToken)
    {
        while (added.Contains(node.Contiguous + 1))
        {
            node.Contiguous++;
        }

        if (node.Contiguous >= node.Max)
        {
            return;
        }

        await using var run = new NpgsqlCommand("""
            SELECT min(e.origin_seq) FROM events e
            WHERE e.origin_id = $1 AND e.origin_seq > $2
              AND NOT EXISTS (SELECT 1 FROM events x WHERE x.origin_id = $1 AND x.origin_seq = e.origin_seq + 1)
            """, connection, tx);
        run.Parameters.AddWithValue(node.Id);
        run.Parameters.AddWithValue(node.Contiguous);
        if (await run.ExecuteScalarAsync(cancellationToken) is long end && await HoldsAsync(connection, tx, node.Id, node.Contiguous + 1, cancellationToken))
        {
            node.Contiguous = end;
        }
    }

    private static async Task<bool> HoldsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, int nodeId, long originSeq, CancellationToken cancellationToken)
    {
        await using var holds = new NpgsqlCommand("SELECT 1 FROM events WHERE origin_id = $1 AND origin_seq = $2", connection, tx);
        holds.Parameters.AddWithValue(nodeId);
        holds.Parameters.AddWithValue(originSeq);
        return await holds.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static async Task UpdateNodesAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Node[] dirty, CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand("""
            UPDATE nodes SET contiguous_seq = u.contiguous, max_seq = u.max
            FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS u(id, contiguous, max)
            WHERE nodes.id = u.id
            """, connection, tx);
        update.Parameters.AddWithValue(dirty.Select(n => n.Id).ToArray());
        update.Parameters.AddWithValue(dirty.Select(n => n.Contiguous).ToArray());
        update.Parameters.AddWithValue(dirty.Select(n => n.Max).ToArray());
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Binary COPY: the fastest way into PostgreSQL, and the reason ingest keeps up with raw COPY.</summary>
    private static async Task CopyAsync(NpgsqlConnection connection, List<Row> rows, CancellationToken cancellationToken)
    {
        await using var import = await connection.BeginBinaryImportAsync($"COPY events({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in rows)
        {
            var e = row.Event;
            await import.StartRowAsync(cancellationToken);
            await import.WriteAsync(row.Seq, NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync(e.Topic, NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(e.Version, NpgsqlDbType.Integer, cancellationToken);
            await import.WriteAsync(e.Key, NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(row.NodeId, NpgsqlDbType.Integer, cancellationToken);
            await import.WriteAsync(row.OriginSeq, NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync(row.Hlc, NpgsqlDbType.Bigint, cancellationToken);
            await import.WriteAsync(e.Scope.ToString(), NpgsqlDbType.Text, cancellationToken);
            await WriteOptionalAsync(import, e.CorrelationId, cancellationToken);
            await WriteOptionalAsync(import, e.CausationId, cancellationToken);
            await import.WriteAsync(e.Payload, NpgsqlDbType.Bytea, cancellationToken);
            await import.WriteAsync(row.Checksum, NpgsqlDbType.Bigint, cancellationToken);
        }

        await import.CompleteAsync(cancellationToken);
    }

    private static async Task WriteOptionalAsync(NpgsqlBinaryImporter import, string? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await import.WriteNullAsync(cancellationToken);
        }
        else
        {
            await import.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed record Row(long Seq, NewEvent Event, int NodeId, long OriginSeq, long Hlc, long Checksum);

    private sealed class Node(int id)
    {
        public int Id { get; } = id;

        public long Contiguous { get; set; }

        public long Max { get; set; }

        public bool Dirty { get; set; }
    }
}
