using Npgsql;
using Outpost.Core.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Core.Postgres;

/// <summary>
/// Commits one group of appends in one PostgreSQL transaction. Every writer of the database, on every HQ node,
/// commits holding the single <c>log_head</c> row's lock, so sequences are assigned and committed in one order
/// across nodes: a reader that has seen sequence N has seen every sequence below it. A group is either written
/// lock first (<see cref="Commit"/>: node positions read inside the lock, so nodes sharing one node id never hand
/// out the same origin sequence), or staged ahead of the lock on what this writer predicts the log will be
/// (<see cref="TryStage"/>) and committed only if the lock finds the head where the prediction put it
/// (<see cref="TryFinish"/>).
/// </summary>
internal sealed class PostgresLogWriter(NpgsqlDataSource source, HybridLogicalClock clock, NodeId self, LogDurability durability, long head, string logName)
{
    /// <summary>
    /// How far past a (topic, type)'s latest stretch its next events may start and still extend that stretch rather
    /// than open a new one: a read of that pair then reads at most this many other events in between, and a pair
    /// that keeps arriving (sales) stays one stretch however many commits carry it.
    /// </summary>
    private const long StretchGap = 10_000;

    /// <summary>Origin seqs of one node further apart than this are looked up as separate ranges.</summary>
    private const long RunGap = 64;

    /// <summary>Where the head's update sits in a staged group's finishing batch (after the two settings).</summary>
    private const int HeadCommand = 2;

    /// <summary>
    /// How many groups may be staged and not yet committed at once: one committing while the others copy, side by side
    /// on their own connections.
    /// </summary>
    public const int MaxStaged = 3;

    /// <summary>How long a staged group's statements wait on a lock before failing (relation extension waits are far shorter).</summary>
    private const string StagedLockTimeout = "SET LOCAL lock_timeout = '2s'";

    private const string RegisterNodes = "INSERT INTO nodes(name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING";

    private const string ReadNodes = "SELECT id, name, contiguous_seq, max_seq FROM nodes WHERE name = ANY($1)";

    /// <summary>Extends each pair's latest stretch when it ends close enough below, or opens one (one statement).</summary>
    private const string AddStretches = """
        WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(topic, type, first_seq, last_seq)),
        extended AS (
            UPDATE log_stretches s SET seq_to = u.last_seq FROM u
            WHERE s.topic = u.topic AND s.type = u.type AND s.seq_to < u.first_seq AND s.seq_to >= u.first_seq - $5
            RETURNING s.topic, s.type)
        INSERT INTO log_stretches(topic, type, seq_from, seq_to)
        SELECT u.topic, u.type, u.first_seq, u.last_seq FROM u
        WHERE NOT EXISTS (SELECT 1 FROM extended x WHERE x.topic = u.topic AND x.type = u.type)
        """;

    /// <summary>
    /// What this writer expects the log to be after the last group it wrote or staged: the head, and the positions of
    /// the nodes it has written for. It holds while no other writer commits (checked at the end, by the head); a
    /// commit that found nobody else had written since this writer's previous one sets it. Only the appending
    /// thread touches it.
    /// </summary>
    private Prediction? _prediction;

    /// <summary>
    /// Each origin's contiguous origin seq as of the latest commit this writer made of its events: read under the head's
    /// lock or on a prediction the commit proved, so exact then; another node's later commits may have moved it on.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _contiguous = new(StringComparer.Ordinal);

    /// <summary>See <see cref="_contiguous"/>: null for an origin this writer has not committed events of.</summary>
    public long? Contiguous(string origin) => _contiguous.TryGetValue(origin, out var seq) ? seq : null;

    private void Remember(IEnumerable<Node> nodes)
    {
        foreach (var node in nodes)
        {
            _contiguous.AddOrUpdate(node.Name, node.Contiguous, (_, known) => Math.Max(known, node.Contiguous));
        }
    }

    /// <summary>Moves on every refused or failed staged group: groups staged on an older prediction are refused too.</summary>
    private int _epoch;

    /// <summary>The head after this writer's last commit (at start, the head it opened on).</summary>
    private long _lastHead = head;

    /// <summary>
    /// Writes every request of the group in one transaction, taking the <c>log_head</c> lock first; returns the new
    /// head. On failure nothing of it stays. With <paramref name="predict"/>, a commit that found nobody else had
    /// written since this writer's previous one leaves a prediction the next group can be staged on.
    /// </summary>
    public long Commit(IReadOnlyList<AppendRequest> group, bool predict = false)
    {
        if (predict)
        {
            _prediction = null;
        }

        using var connection = source.OpenConnection();
        using var tx = connection.BeginTransaction();
        var (head, nodes) = Lock(connection, tx, group);
        var undisturbed = head == Volatile.Read(ref _lastHead);
        var existing = FindExisting(connection, tx, group, nodes);
        var startHead = head;
        var (rows, stretches) = Place(connection, tx, group, nodes, existing, ref head);
        PostgresCopyRows.Copy(connection, rows);
        using var finish = Finish(connection, tx, group, nodes, stretches, head, startHead, expected: null);
        finish.ExecuteNonQuery();
        tx.Commit();
        Volatile.Write(ref _lastHead, head);
        Remember(nodes.Values);
        if (predict && undisturbed)
        {
            _prediction = new Prediction(head, Volatile.Read(ref _epoch), nodes.Values.ToDictionary(n => n.Name, n => new NodeState(n.Id, n.Contiguous, n.Max), StringComparer.Ordinal));
        }

        return head;
    }

    /// <summary>
    /// Places the group ahead of the <c>log_head</c> lock, on the prediction the groups before it left, while those
    /// are still being copied or committed on other connections: its transaction is left open for
    /// <see cref="Copy"/> (which may run on another thread, beside other groups' copies) and then
    /// <see cref="TryFinish"/>. Returns null when there is no prediction to stage on (then <see cref="Commit"/>
    /// writes the group) or when the server refused part of it.
    /// </summary>
    /// <remarks>
    /// Nothing staged is visible to a reader before it commits, and it commits only after the group before it, under
    /// the lock, and only if the head is still where the prediction put it: sequences stay one gap-free order,
    /// committed in order, exactly as if the writer had locked first.
    /// </remarks>
    public Staged? TryStage(IReadOnlyList<AppendRequest> group)
    {
        if (_prediction is not { } prediction || prediction.Epoch != Volatile.Read(ref _epoch))
        {
            _prediction = null;
            return null;
        }

        NpgsqlConnection? connection = null;
        NpgsqlTransaction? tx = null;
        try
        {
            connection = source.OpenConnection();
            tx = connection.BeginTransaction();
            var nodes = Known(connection, tx, group, prediction);
            var existing = FindExisting(connection, tx, group, nodes);
            var head = prediction.Head;
            var startHead = head;
            var (rows, stretches) = Place(connection, tx, group, nodes, existing, ref head);
            prediction.Head = head;
            var added = new Dictionary<string, Dictionary<long, long>>(StringComparer.Ordinal);
            foreach (var node in nodes.Values)
            {
                prediction.Nodes[node.Name] = new NodeState(node.Id, node.Contiguous, node.Max);
                if (node.Added.Count > 0)
                {
                    added[node.Name] = node.Added;
                }
            }

            prediction.Remember(added);
            return new Staged(connection, tx, group, nodes, rows, stretches, startHead, head, prediction.Epoch);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Another node writing the same rows, or the server gone: the group is written under the lock instead.
            _prediction = null;
            tx?.Dispose();
            connection?.Dispose();
            return null;
        }
    }

    /// <summary>
    /// Commits a staged group if the log is where its prediction said: the head row's lock is taken here, waiting at
    /// most a millisecond (a writer holding it moves the head anyway). Call it once its copy is done. Returns the new
    /// head; or null when its copy failed or the group was refused, and it was rolled back: the prediction is gone,
    /// and the group must be written again with <see cref="Commit"/> after every group staged behind it is rolled
    /// back too.
    /// </summary>
    public long? TryFinish(Staged staged)
    {
        try
        {
            if (staged.CopyFailure is null && staged.Epoch == Volatile.Read(ref _epoch))
            {
                using var finish = Finish(staged.Connection, staged.Transaction, staged.Group, staged.Nodes, staged.Stretches, staged.Head, staged.StartHead, expected: staged.StartHead);
                finish.ExecuteNonQuery();
                if (finish.BatchCommands[HeadCommand].RecordsAffected == 1)
                {
                    staged.Transaction.Commit();
                    Volatile.Write(ref _lastHead, staged.Head);
                    Remember(staged.Nodes.Values);
                    CountStaged("committed");
                    return staged.Head;
                }
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // Another writer holds the head; it moves it, so the prediction is gone either way.
        }
        catch
        {
            Interlocked.Increment(ref _epoch);
            throw;
        }
        finally
        {
            staged.Dispose();
        }

        Interlocked.Increment(ref _epoch);
        CountStaged("refused");
        return null;
    }

    /// <summary>Copies a staged group's rows into its open transaction.</summary>
    public static void Copy(Staged staged) => PostgresCopyRows.Copy(staged.Connection, staged.Rows);

    private void CountStaged(string outcome) =>
        CoreMetrics.Staged.Add(1, new KeyValuePair<string, object?>("log", logName), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>
    /// Decides every event of the group (a duplicate of what the log holds, or of what this group or the staged groups
    /// just before it placed; or its sequence, origin seq, clock and checksum) and moves the gap-free positions of
    /// the nodes they came from. Returns the rows to copy and where each (topic, type) lies.
    /// </summary>
    private (List<PostgresCopyRows.Placed> Rows, List<Stretch> Stretches) Place(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group, Dictionary<string, Node> nodes,
        Dictionary<(int, long), long> existing, ref long head)
    {
        var rows = new List<PostgresCopyRows.Placed>(group.Sum(r => r.Events.Count));
        var stretches = new List<Stretch>();
        var selfNode = nodes[self.Value];
        Node? lastNode = null;
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
                    // A store's batch comes from one origin: look its node up once, not per event.
                    node = lastNode is not null && string.Equals(lastNode.Name, origin.Node.Value, StringComparison.Ordinal) ? lastNode : nodes[origin.Node.Value];
                    lastNode = node;
                    originSeq = origin.Seq;
                    hlc = origin.Timestamp.Value;

                    // Above the node's highest origin seq so far (held or placed) it cannot be a duplicate.
                    if (originSeq <= node.Max && (existing.TryGetValue((node.Id, originSeq), out var seqHeld) || node.TryGetPlaced(originSeq, out seqHeld)))
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
                rows.Add(new PostgresCopyRows.Placed((PostgresCopyRows)request.Prepared!, i, seq, node.Id, originSeq, hlc, unchecked((long)EventChecksum.Seal(request.ContentHashes[i], seq, originSeq, hlc))));
                node.Added[originSeq] = seq;
                Stretch.Add(stretches, e, seq);
                node.Max = Math.Max(node.Max, originSeq);
                node.Dirty = true;
                request.Results[i] = new AppendResult(seq, Duplicate: false);
            }
        }

        foreach (var node in nodes.Values.Where(n => n.Dirty))
        {
            AdvanceContiguous(connection, tx, node);
        }

        return (rows, stretches);
    }

    /// <summary>
    /// One round trip: the nodes' positions, where each (topic, type) lies, cursors, the head, and the notification
    /// other nodes wake on. With <paramref name="expected"/> (a staged group) it also sets the durability, takes the
    /// head row's lock waiting at most a millisecond, and moves the head only if it is still there (the row count of
    /// command <see cref="HeadCommand"/> says whether it was); what follows waits up to the staged timeout again.
    /// </summary>
    private NpgsqlBatch Finish(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group, Dictionary<string, Node> nodes,
        List<Stretch> stretches, long head, long startHead, long? expected)
    {
        var finish = new NpgsqlBatch(connection, tx);
        var moveHead = new NpgsqlBatchCommand("UPDATE log_head SET seq = $1, hlc = greatest(hlc, $2) WHERE id = 1" + (expected is null ? "" : " AND seq = $3"))
        {
            Parameters = { new() { Value = head }, new() { Value = clock.Last.Value } },
        };
        if (expected is { } at)
        {
            finish.BatchCommands.Add(new NpgsqlBatchCommand(SynchronousCommit));
            finish.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL lock_timeout = '1ms'"));
            moveHead.Parameters.Add(new() { Value = at });
            finish.BatchCommands.Add(moveHead);

            // Only the head row's lock is worth no wait. The rest of the batch, and the commit (PostgreSQL serialises
            // the commits that notify across the whole server under one lock), wait as any staged statement does.
            finish.BatchCommands.Add(new NpgsqlBatchCommand(StagedLockTimeout));
        }

        var dirty = nodes.Values.Where(n => n.Dirty).ToArray();
        if (dirty.Length > 0)
        {
            finish.BatchCommands.Add(new NpgsqlBatchCommand("""
                UPDATE nodes SET contiguous_seq = u.contiguous, max_seq = u.max
                FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS u(id, contiguous, max)
                WHERE nodes.id = u.id
                """)
            {
                Parameters = { new() { Value = dirty.Select(n => n.Id).ToArray() }, new() { Value = dirty.Select(n => n.Contiguous).ToArray() }, new() { Value = dirty.Select(n => n.Max).ToArray() } },
            });
        }

        if (stretches.Count > 0)
        {
            finish.BatchCommands.Add(new NpgsqlBatchCommand(AddStretches)
            {
                Parameters =
                {
                    new() { Value = stretches.Select(p => p.Topic).ToArray() }, new() { Value = stretches.Select(p => p.Type).ToArray() },
                    new() { Value = stretches.Select(p => p.First).ToArray() }, new() { Value = stretches.Select(p => p.Last).ToArray() },
                    new() { Value = StretchGap },
                },
            });
        }

        foreach (var request in group)
        {
            if (request.Cursor is { } cursor)
            {
                finish.BatchCommands.Add(new NpgsqlBatchCommand(PostgresLogCommands.UpsertCursor) { Parameters = { new() { Value = cursor.Name }, new() { Value = (int)cursor.Kind }, new() { Value = cursor.Value } } });
            }
        }

        if (expected is null)
        {
            finish.BatchCommands.Add(moveHead);
        }

        if (head > startHead)
        {
            // Delivered to every listening node when (and only if) the transaction commits.
            finish.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify('outpost_log', $1)") { Parameters = { new() { Value = head.ToString(System.Globalization.CultureInfo.InvariantCulture) } } });
        }

        return finish;
    }

    /// <summary>This transaction's durability, as the log was opened with.</summary>
    private string SynchronousCommit => durability == LogDurability.Normal ? "SET LOCAL synchronous_commit = off" : "SET LOCAL synchronous_commit = on";

    /// <summary>
    /// The nodes a staged group appends for, as predicted; a node the prediction does not know yet is registered and
    /// read here (one round trip, only then). The clock moves past the group's latest origin timestamp.
    /// </summary>
    private Dictionary<string, Node> Known(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group, Prediction prediction)
    {
        var (names, latest) = Origins(group);
        if (latest > 0)
        {
            clock.Observe(new HlcTimestamp(latest));
        }

        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var name in names)
        {
            if (prediction.Nodes.TryGetValue(name, out var state))
            {
                nodes.Add(name, new Node(state.Id, name) { Contiguous = state.Contiguous, Max = state.Max, Before = prediction.Before(name) });
            }
            else
            {
                unknown.Add(name);
            }
        }

        // A staged group never waits long on another writer's rows (a node that started writing meanwhile): its
        // copy fails instead and it is written again. That writer may in turn be waiting on the staged groups
        // behind this one, which commit only after it; PostgreSQL sees no cycle there to break.
        using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(StagedLockTimeout));
        if (unknown.Count > 0)
        {
            var array = unknown.ToArray();
            batch.BatchCommands.Add(new NpgsqlBatchCommand(RegisterNodes) { Parameters = { new() { Value = array } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand(ReadNodes) { Parameters = { new() { Value = array } } });
        }

        using var reader = batch.ExecuteReader();
        ReadNodesInto(reader, nodes);
        return nodes;
    }

    private static void ReadNodesInto(NpgsqlDataReader reader, Dictionary<string, Node> nodes)
    {
        while (reader.Read())
        {
            var name = reader.GetString(1);
            nodes.Add(name, new Node(reader.GetInt32(0), name) { Contiguous = reader.GetInt64(2), Max = reader.GetInt64(3) });
        }
    }

    /// <summary>The names of the nodes a group appends for (this node among them) and its latest origin timestamp.</summary>
    private (HashSet<string> Names, long Latest) Origins(IReadOnlyList<AppendRequest> group)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { self.Value };
        var latest = 0L;
        foreach (var request in group)
        {
            foreach (var e in request.Events)
            {
                if (e.Origin is { } origin)
                {
                    names.Add(origin.Node.Value);
                    latest = Math.Max(latest, origin.Timestamp.Value);
                }
            }
        }

        return (names, latest);
    }

    /// <summary>
    /// One round trip: the durability of this transaction, the head row's lock (every lock-first writer on every
    /// node waits here), and the positions of the nodes this group appends for (registering new ones). The clock moves past
    /// the head's and past the latest origin timestamp of the group, once, before any of the group's own events
    /// takes a timestamp: each of those then follows everything the group received.
    /// </summary>
    private (long Head, Dictionary<string, Node> Nodes) Lock(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group)
    {
        var (names, latest) = Origins(group);
        var nameArray = names.ToArray();
        using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(SynchronousCommit));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT seq, hlc FROM log_head WHERE id = 1 FOR UPDATE"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RegisterNodes) { Parameters = { new() { Value = nameArray } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(ReadNodes) { Parameters = { new() { Value = nameArray } } });
        using var reader = batch.ExecuteReader();
        reader.Read();
        var head = reader.GetInt64(0);
        clock.Observe(new HlcTimestamp(Math.Max(reader.GetInt64(1), latest)));
        reader.NextResult();
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        ReadNodesInto(reader, nodes);
        return (head, nodes);
    }

    /// <summary>
    /// The events of this group the log may hold already (at or below their node's highest origin seq), found by
    /// one index range per run of nearby origin seqs: a store's resent or out-of-order batch of 1,000 is one range
    /// scan returning what is there, not 1,000 probes.
    /// </summary>
    private static Dictionary<(int, long), long> FindExisting(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<AppendRequest> group, Dictionary<string, Node> nodes)
    {
        var candidates = new Dictionary<int, List<long>>();
        foreach (var request in group)
        {
            foreach (var e in request.Events)
            {
                // Above a node's highest origin seq nothing can be held yet: a store sending in order costs no lookup.
                if (e.Origin is { } origin && nodes[origin.Node.Value] is var node && origin.Seq <= node.Max)
                {
                    if (!candidates.TryGetValue(node.Id, out var seqs))
                    {
                        candidates[node.Id] = seqs = [];
                    }

                    seqs.Add(origin.Seq);
                }
            }
        }

        var existing = new Dictionary<(int, long), long>();
        if (candidates.Count == 0)
        {
            return existing;
        }

        var ids = new List<int>();
        var lows = new List<long>();
        var highs = new List<long>();
        foreach (var (id, seqs) in candidates)
        {
            seqs.Sort();
            var low = seqs[0];
            for (var i = 1; i <= seqs.Count; i++)
            {
                // A new range where the next seq is far from this one: a range returns every held event within it.
                if (i == seqs.Count || seqs[i] - seqs[i - 1] > RunGap)
                {
                    ids.Add(id);
                    lows.Add(low);
                    highs.Add(seqs[i - 1]);
                    low = i < seqs.Count ? seqs[i] : 0;
                }
            }
        }

        using var find = new NpgsqlCommand("""
            SELECT e.origin_id, e.origin_seq, e.seq
            FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS u(origin_id, low, high)
            JOIN events e ON e.origin_id = u.origin_id AND e.origin_seq BETWEEN u.low AND u.high
            """, connection, tx);
        find.Parameters.AddWithValue(ids.ToArray());
        find.Parameters.AddWithValue(lows.ToArray());
        find.Parameters.AddWithValue(highs.ToArray());
        using var reader = find.ExecuteReader();
        while (reader.Read())
        {
            existing[(reader.GetInt32(0), reader.GetInt64(1))] = reader.GetInt64(2);
        }

        return existing;
    }

    /// <summary>
    /// Moves a node's gap-free position over what this group (and the staged groups before it) placed, and over what
    /// arrived earlier out of order (one indexed query, only when there is such a gap to close), in turn until
    /// neither moves it: the group's rows are not in the table yet when this runs.
    /// </summary>
    private static void AdvanceContiguous(NpgsqlConnection connection, NpgsqlTransaction tx, Node node)
    {
        while (true)
        {
            while (node.TryGetPlaced(node.Contiguous + 1, out _))
            {
                node.Contiguous++;
            }

            // Nothing to close while the next origin seq is still missing: one indexed probe, not a scan.
            if (node.Contiguous >= node.Max || !Holds(connection, tx, node.Id, node.Contiguous + 1))
            {
                return;
            }

            // The first origin seq missing from the table above the gap-free position: one index probe per seq of the
            // (short) out-of-order window, stopping at the first hole, instead of a scan of the store's events.
            using var hole = new NpgsqlCommand("""
                SELECT s FROM generate_series($2::bigint + 1, $3::bigint) AS s
                WHERE NOT EXISTS (SELECT 1 FROM events WHERE origin_id = $1 AND origin_seq = s)
                ORDER BY s LIMIT 1
                """, connection, tx);
            hole.Parameters.AddWithValue(node.Id);
            hole.Parameters.AddWithValue(node.Contiguous);
            hole.Parameters.AddWithValue(Math.Min(node.Max, node.Contiguous + 100_000));
            node.Contiguous = hole.ExecuteScalar() is long missing ? missing - 1 : Math.Min(node.Max, node.Contiguous + 100_000);
        }
    }

    private static bool Holds(NpgsqlConnection connection, NpgsqlTransaction tx, int nodeId, long originSeq)
    {
        using var holds = new NpgsqlCommand("SELECT 1 FROM events WHERE origin_id = $1 AND origin_seq = $2", connection, tx);
        holds.Parameters.AddWithValue(nodeId);
        holds.Parameters.AddWithValue(originSeq);
        return holds.ExecuteScalar() is not null;
    }

    /// <summary>Where one (topic, type) lies in this commit: its first and last sequence.</summary>
    internal sealed class Stretch(string topic, string type, long first)
    {
        public string Topic { get; } = topic;

        public string Type { get; } = type;

        public long First { get; } = first;

        public long Last { get; set; } = first;

        /// <summary>
        /// Counts an event in: a commit holds a handful of pairs, most events the same as the one before, so a look
        /// through a short list from its end (decoded names are mostly the same string instances) beats hashing both
        /// names of every event.
        /// </summary>
        public static void Add(List<Stretch> stretches, NewEvent e, long seq)
        {
            for (var i = stretches.Count - 1; i >= 0; i--)
            {
                var stretch = stretches[i];
                if (string.Equals(stretch.Type, e.Type, StringComparison.Ordinal) && string.Equals(stretch.Topic, e.Topic, StringComparison.Ordinal))
                {
                    stretch.Last = seq;
                    return;
                }
            }

            stretches.Add(new Stretch(e.Topic, e.Type, seq));
        }
    }

    internal sealed class Node(int id, string name)
    {
        public int Id { get; } = id;

        public string Name { get; } = name;

        /// <summary>The origin seqs this commit adds for the node, with the sequence each got.</summary>
        public Dictionary<long, long> Added { get; } = [];

        /// <summary>What the staged groups just before this one added for the node (not committed yet, so not found in the table).</summary>
        public IReadOnlyList<Dictionary<long, long>> Before { get; init; } = [];

        /// <summary>Whether this group, or a staged group before it, placed the origin seq; and where.</summary>
        public bool TryGetPlaced(long originSeq, out long seq)
        {
            if (Added.TryGetValue(originSeq, out seq))
            {
                return true;
            }

            foreach (var before in Before)
            {
                if (before.TryGetValue(originSeq, out seq))
                {
                    return true;
                }
            }

            return false;
        }

        public long Contiguous { get; set; }

        public long Max { get; set; }

        public bool Dirty { get; set; }
    }

    /// <summary>A node's id and positions, as the writer expects them.</summary>
    private readonly record struct NodeState(int Id, long Contiguous, long Max);

    /// <summary>See <see cref="_prediction"/>.</summary>
    private sealed class Prediction(long head, int epoch, Dictionary<string, NodeState> nodes)
    {
        /// <summary>What the last few staged groups added, by node, newest last: the next group's duplicates may be among them.</summary>
        private readonly Queue<Dictionary<string, Dictionary<long, long>>> _recent = new();

        public long Head { get; set; } = head;

        public int Epoch { get; } = epoch;

        public Dictionary<string, NodeState> Nodes { get; } = nodes;

        /// <summary>
        /// Keeps what a staged group added, and what the groups staged just before it added: as many as may still be
        /// uncommitted when the next group is placed (<see cref="MaxStaged"/> at once, the oldest committing).
        /// </summary>
        public void Remember(Dictionary<string, Dictionary<long, long>> added)
        {
            _recent.Enqueue(added);
            while (_recent.Count > MaxStaged - 1)
            {
                _recent.Dequeue();
            }
        }

        public List<Dictionary<long, long>> Before(string node)
        {
            var before = new List<Dictionary<long, long>>(_recent.Count);
            foreach (var added in _recent)
            {
                if (added.TryGetValue(node, out var seqs))
                {
                    before.Add(seqs);
                }
            }

            return before;
        }
    }

    /// <summary>A group written ahead of the lock: its open transaction and what finishing it needs.</summary>
    internal sealed class Staged(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<AppendRequest> group, Dictionary<string, Node> nodes,
        List<PostgresCopyRows.Placed> rows, List<Stretch> stretches, long startHead, long head, int epoch) : IDisposable
    {
        /// <summary>Set once its rows are copied, or the copy failed or was skipped.</summary>
        public ManualResetEventSlim Copied { get; } = new();

        /// <summary>Why the copy failed.</summary>
        public Exception? CopyFailure { get; set; }

        private volatile bool _abandoned;

        /// <summary>Rolled back before its copy started: the copy is skipped.</summary>
        public bool Abandoned
        {
            get => _abandoned;
            set => _abandoned = value;
        }

        public List<PostgresCopyRows.Placed> Rows { get; } = rows;

        public NpgsqlConnection Connection { get; } = connection;

        public NpgsqlTransaction Transaction { get; } = transaction;

        public IReadOnlyList<AppendRequest> Group { get; } = group;

        public Dictionary<string, Node> Nodes { get; } = nodes;

        public List<Stretch> Stretches { get; } = stretches;

        public long StartHead { get; } = startHead;

        public long Head { get; } = head;

        public int Epoch { get; } = epoch;

        /// <summary>Rolls back what was not committed and returns the connection to the pool.</summary>
        public void Dispose()
        {
            Transaction.Dispose();
            Connection.Dispose();
            Copied.Dispose();
        }
    }
}
