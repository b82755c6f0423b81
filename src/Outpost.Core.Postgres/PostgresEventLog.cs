using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Outpost.Core.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Core.Topics;

namespace Outpost.Core.Postgres;

/// <summary>
/// The event log on PostgreSQL, for HQ: several stateless nodes may open the same database at once. Appends of
/// one node go through a queue to its writer, which commits everything queued in one transaction (group commit)
/// with binary COPY; writers of all nodes take turns on the <c>log_head</c> row, so the sequence is one total
/// order committed in order. Every commit notifies the <c>outpost_log</c> channel, and each node listens on it,
/// so a long poll on one node wakes when another node appends.
/// </summary>
/// <remarks>
/// <see cref="LogOptions.Path"/> is not used: the connection string names the database. Migrations are applied
/// when the log opens.
/// </remarks>
public sealed partial class PostgresEventLog : IEventLog
{
    private const string Channel = "outpost_log";
    private const long FilteredWindow = 50_000;
    private static readonly TimeSpan HeadRefresh = TimeSpan.FromSeconds(5);
    private readonly NpgsqlDataSource _source;
    private readonly LogOptions _options;
    private readonly ILogger _logger;
    private readonly PostgresLogWriter _writer;
    private readonly Channel<AppendRequest> _queue;
    private readonly Channel<PostgresLogWriter.Staged> _staged = System.Threading.Channels.Channel.CreateUnbounded<PostgresLogWriter.Staged>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Staged groups whose rows are to be copied, by <see cref="CopyLoop"/>s side by side.</summary>
    private readonly Channel<PostgresLogWriter.Staged> _copies = System.Threading.Channels.Channel.CreateUnbounded<PostgresLogWriter.Staged>(new UnboundedChannelOptions { SingleWriter = true });

    /// <summary>Groups handed on and not committed yet: one committing while the others copy, no more.</summary>
    private readonly SemaphoreSlim _inFlight = new(PostgresLogWriter.MaxStaged, PostgresLogWriter.MaxStaged);
    private readonly Task[] _copyLoops;
    private readonly Task _writeLoop;
    private readonly Task _finishLoop;

    /// <summary>Held while a group is staged, so that rolling back what is staged waits for it.</summary>
    private readonly Lock _stageGate = new();
    private readonly Task _listenLoop;
    private readonly CancellationTokenSource _closing = new();
    private readonly CommitSignal _committed = new();
    private readonly RowReader.Values _values = new();
    private readonly string _name;
    private long _head;
    private readonly CorruptionLedger _corruption = new();
    private int _disposed;

    private PostgresEventLog(NpgsqlDataSource source, LogOptions options, ILogger logger, HybridLogicalClock clock, long head)
    {
        _source = source;
        _options = options;
        _logger = logger;
        Clock = clock;
        NodeId = NodeId.Parse(options.NodeId);
        _head = head;
        _name = NameOf(source);
        _writer = new PostgresLogWriter(source, clock, NodeId, options.Durability, head, _name);
        _queue = System.Threading.Channels.Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
        _writeLoop = Task.Factory.StartNew(WriteLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _finishLoop = Task.Factory.StartNew(FinishLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _copyLoops = [.. Enumerable.Range(0, PostgresLogWriter.MaxStaged - 1).Select(_ => Task.Factory.StartNew(CopyLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        _listenLoop = Task.Run(ListenLoopAsync);
    }

    /// <inheritdoc />
    public NodeId NodeId { get; }

    /// <inheritdoc />
    public TopicCatalog Topics => _options.Topics;

    /// <inheritdoc />
    public HybridLogicalClock Clock { get; }

    /// <inheritdoc />
    public long Head => Volatile.Read(ref _head);

    /// <inheritdoc />
    public long CorruptRecordsSeen => _corruption.Seen;

    /// <summary>The data source, for read models and tools that keep their tables in the log's database.</summary>
    public NpgsqlDataSource DataSource => _source;

    /// <summary>The log's name on a database, as its metrics and logs tag it: <c>postgresql:</c> and the database.</summary>
    internal static string NameOf(NpgsqlDataSource source) => "postgresql:" + new NpgsqlConnectionStringBuilder(source.ConnectionString).Database;

    /// <summary>Opens the log in the database named by <paramref name="connectionString"/>, applying migrations first.</summary>
    /// <exception cref="NpgsqlException">The server cannot be reached.</exception>
    /// <exception cref="InvalidOperationException">The database was migrated by newer software.</exception>
    public static async Task<PostgresEventLog> OpenAsync(string connectionString, LogOptions options, ILogger<PostgresEventLog>? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(options);
        NodeId.Parse(options.NodeId);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "outpost:" + options.NodeId;
        var source = builder.Build();
        try
        {
            await PostgresLogSchema.MigrateAsync(source, cancellationToken);
            await using var connection = await source.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT seq, hlc FROM log_head WHERE id = 1", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var head = reader.GetInt64(0);
            var clock = new HybridLogicalClock(options.Time, new HlcTimestamp(reader.GetInt64(1)), options.MaxClockDrift);
            return new PostgresEventLog(source, options, (ILogger?)logger ?? NullLogger.Instance, clock, head);
        }
        catch
        {
            await source.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<AppendResult> AppendAsync(NewEvent e, CancellationToken cancellationToken = default)
    {
        var results = await EnqueueAsync(AppendRequest.One(e, _options.MaxEventBytes, NodeId), cancellationToken);
        return results[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<AppendResult>> AppendBatchAsync(IReadOnlyList<NewEvent> events, CursorUpdate? cursor = null, CancellationToken cancellationToken = default) =>
        AppendRequest.Batch(events, cursor, _options.MaxEventBytes, NodeId) is { } request ? await EnqueueAsync(request, cancellationToken) : [];

    /// <inheritdoc />
    public async ValueTask<EventPage> ReadAsync(long afterSeq, ReadFilter filter, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var head = Head;
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        // A filtered read looks at a bounded stretch of the log at a time: the range on the primary key keeps the
        // plan an index range scan however few rows match (a read model reading two types among millions of
        // sales would otherwise be planned as a scan of the table), and the next read goes on from there.
        var upper = filter == ReadFilter.All ? long.MaxValue : Math.Min(head, afterSeq + FilteredWindow);
        await using var command = FilteredQuery(connection, filter, afterSeq, maxCount, _options.Topics, upper);
        var events = new List<StoredEvent>(Math.Min(maxCount, 1024));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // The hasher is per thread and its scratch buffer is shared: take it after each await, never across one.
                events.Add(ReadEvent(reader, EventChecksum.Current));
            }
        }

        var scannedTo = events.Count == maxCount ? events[^1].Seq : Math.Max(Math.Min(head, upper), events.Count > 0 ? events[^1].Seq : 0);
        return new EventPage(events, Math.Max(afterSeq, scannedTo));
    }

    /// <inheritdoc />
    public ValueTask<long> CountAsync(long afterSeq, ReadFilter filter, CancellationToken cancellationToken = default)
        => CountAsync(afterSeq, long.MaxValue, filter, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(long afterSeq, long throughSeq, ReadFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        var sql = new StringBuilder("SELECT count(*) FROM events WHERE seq > $1 AND seq <= $2");
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.AddWithValue(afterSeq);
        command.Parameters.AddWithValue(throughSeq);
        if (filter.Topics is { } topics)
        {
            command.Parameters.AddWithValue(topics.ToArray());
            sql.Append(CultureInfo.InvariantCulture, $" AND topic = ANY(${command.Parameters.Count})");
        }

        if (filter.Scopes is { } scopes)
        {
            command.Parameters.AddWithValue(scopes.Select(s => s.ToString()).ToArray());
            sql.Append(CultureInfo.InvariantCulture, $" AND scope = ANY(${command.Parameters.Count})");
        }

        if (filter.Types is { } types)
        {
            command.Parameters.AddWithValue(types.ToArray());
            sql.Append(CultureInfo.InvariantCulture, $" AND type = ANY(${command.Parameters.Count})");
        }

        command.CommandText = sql.ToString();
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <inheritdoc />
    public ValueTask WaitForAppendAsync(long afterSeq, CancellationToken cancellationToken) => _committed.WaitPastAsync(() => Head, afterSeq, null, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<StoredEvent> TailAsync(long afterSeq, ReadFilter filter, CancellationToken cancellationToken) => LogTail.TailAsync(this, afterSeq, filter, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long?> GetCursorAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        return await LogQueries.CursorAsync(connection, name, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask SetCursorAsync(string name, CursorKind kind, long value, CancellationToken cancellationToken = default) =>
        await EnqueueAsync(AppendRequest.CursorOnly(name, kind, value), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> GetContiguousOriginSeqAsync(NodeId origin, CancellationToken cancellationToken = default)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT contiguous_seq FROM nodes WHERE name = $1", connection);
        command.Parameters.AddWithValue(origin.Value);
        return await command.ExecuteScalarAsync(cancellationToken) is long value ? value : 0;
    }

    /// <inheritdoc />
    public long? KnownContiguousOriginSeq(NodeId origin) => _writer.Contiguous(origin.Value);

    /// <inheritdoc />
    public async ValueTask<bool> HoldsOriginAsync(NodeId origin, long originSeq, CancellationToken cancellationToken = default)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1 FROM events WHERE origin_id = (SELECT id FROM nodes WHERE name = $1) AND origin_seq = $2", connection);
        command.Parameters.AddWithValue(origin.Value);
        command.Parameters.AddWithValue(originSeq);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <inheritdoc />
    public async ValueTask<DbConnection> OpenReadConnectionAsync(CancellationToken cancellationToken = default) => await _source.OpenConnectionAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask<ILogTransaction> BeginTransactionAsync(CancellationToken cancellationToken = default) => BeginTransactionAsync(_options.Durability, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<ILogTransaction> BeginTransactionAsync(LogDurability durability, CancellationToken cancellationToken = default)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken);
        try
        {
            var tx = await connection.BeginTransactionAsync(cancellationToken);
            if (durability == LogDurability.Normal)
            {
                await using var relaxed = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection, tx);
                await relaxed.ExecuteNonQueryAsync(cancellationToken);
            }

            return new PostgresLogTransaction(connection, tx, _options.Time);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string? consumer = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        return await LogQueries.DeadLettersAsync(connection, consumer, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<DeadLetterPage> GetLatestDeadLettersAsync(int max, CancellationToken cancellationToken = default)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        return await LogQueries.LatestDeadLettersAsync(connection, max, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<RetentionReport> ApplyRetentionAsync(CancellationToken cancellationToken = default)
    {
        RetentionReport report;
        await using (var tx = await BeginTransactionAsync(cancellationToken))
        {
            report = await LogRetention.ApplyAsync(tx, _options.Topics, _options.Time.GetUtcNow(), cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        foreach (var (topic, count) in report.Evicted)
        {
            CoreMetrics.Evicted.Add(count, new KeyValuePair<string, object?>("topic", topic));
        }

        return report;
    }

    /// <inheritdoc />
    public async ValueTask<LogStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        return await LogQueries.StatsAsync(connection, Head, CorruptRecordsSeen, cancellationToken);
    }

    /// <summary>Stops accepting appends, lets queued ones commit, stops listening and closes the pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writeLoop;
        await Task.WhenAll(_copyLoops);
        await _finishLoop;
        await _closing.CancelAsync();
        await _listenLoop;
        _closing.Dispose();
        await _source.DisposeAsync();
    }

    /// <summary>
    /// The read query. For down topics in given scopes (a store's down feed), one range of the down-feed index per
    /// (scope, topic) pair, merged: the cost follows what the store receives, not how many other events the log holds.
    /// </summary>
    private static NpgsqlCommand FilteredQuery(NpgsqlConnection connection, ReadFilter filter, long afterSeq, int maxCount, TopicCatalog catalog, long upper)
    {
        var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.AddWithValue(afterSeq);
        command.Parameters.AddWithValue(maxCount);
        var sql = new StringBuilder(PostgresLogCommands.SelectColumns);
        var topics = filter.Topics;
        var scopes = filter.Scopes?.Select(s => s.ToString()).ToArray();
        if (topics is { Count: > 0 } && scopes is { Length: > 0 } && filter.Types is null && topics.Count * scopes.Length <= 64 && topics.All(t => catalog[t].Direction == TopicDirection.Down))
        {
            sql.Append(" WHERE e.seq IN (SELECT seq FROM (");
            var first = true;
            foreach (var scope in scopes)
            {
                command.Parameters.AddWithValue(scope);
                var scopeParameter = command.Parameters.Count;
                foreach (var topic in topics)
                {
                    command.Parameters.AddWithValue(topic);
                    sql.Append(first ? "" : " UNION ALL ").Append(CultureInfo.InvariantCulture,
                        $"(SELECT seq FROM events WHERE down AND scope = ${scopeParameter} AND topic = ${command.Parameters.Count} AND seq > $1 ORDER BY seq LIMIT $2)");
                    first = false;
                }
            }

            sql.Append(") AS matching ORDER BY seq LIMIT $2)");
        }
        else
        {
            // Each value once, named by its number, for the events and for the stretches alike.
            string? Parameter(object? value)
            {
                if (value is null)
                {
                    return null;
                }

                command.Parameters.AddWithValue(value);
                return $"${command.Parameters.Count}";
            }

            var upperParameter = upper == long.MaxValue ? null : Parameter(upper);
            var topicsParameter = Parameter(topics?.ToArray());
            var typesParameter = Parameter(filter.Types?.ToArray());
            var scopesParameter = Parameter(scopes);
            sql.Append(" WHERE e.seq > $1");
            if (upperParameter is not null && (topicsParameter ?? typesParameter) is not null)
            {
                // Start at the first stretch that may hold one of the pairs asked for (in the same snapshot as the
                // events): a read model of a few types skips the stretches holding none, without reading them. A
                // bound of its own beside "seq > $1" (not greatest($1, ...)), so the planner sees the range it knows.
                var pairs = new StringBuilder();
                AppendCondition(pairs, "s.topic = ANY({0})", topicsParameter);
                AppendCondition(pairs, "s.type = ANY({0})", typesParameter);
                sql.Append(CultureInfo.InvariantCulture, $" AND e.seq > (SELECT coalesce(min(s.seq_from) - 1, {upperParameter}) FROM log_stretches s WHERE s.seq_to > $1 AND s.seq_from <= {upperParameter}{pairs})");
            }

            AppendCondition(sql, "e.seq <= {0}", upperParameter);
            AppendCondition(sql, "e.topic = ANY({0})", topicsParameter);
            AppendCondition(sql, "e.scope = ANY({0})", scopesParameter);
            AppendCondition(sql, "e.type = ANY({0})", typesParameter);
        }

        command.CommandText = sql.Append(" ORDER BY e.seq LIMIT $2").ToString();
        return command;
    }

    private static void AppendCondition(StringBuilder sql, string condition, string? parameter)
    {
        if (parameter is not null)
        {
            sql.Append(" AND ").Append(string.Format(CultureInfo.InvariantCulture, condition, parameter));
        }
    }

    private StoredEvent ReadEvent(NpgsqlDataReader reader, EventChecksum checksum)
    {
        var seq = reader.GetInt64(0);
        var topic = reader.GetString(1);
        var type = reader.GetString(2);
        var version = reader.GetInt32(3);
        var key = reader.GetString(4);
        var origin = reader.GetString(5);
        var originSeq = reader.GetInt64(6);
        var hlc = reader.GetInt64(7);
        var scopeText = reader.GetString(8);
        var correlation = reader.IsDBNull(9) ? null : reader.GetString(9);
        var causation = reader.IsDBNull(10) ? null : reader.GetString(10);
        var payload = reader.GetFieldValue<byte[]>(11);
        var stored = unchecked((ulong)reader.GetInt64(12));
        var actual = EventChecksum.Seal(checksum.Content(topic, type, version, key, origin, scopeText, correlation, causation, payload), seq, originSeq, hlc);
        if (actual != stored)
        {
            throw Corrupt(new LogCorruptionException(seq, $"Event {seq} is corrupt: its checksum is {stored:x16} but its content hashes to {actual:x16}. It is not served."));
        }

        if (!_values.TryScope(scopeText, out var scope) || !_values.TryNode(origin, out var node))
        {
            throw Corrupt(new LogCorruptionException(seq, $"Event {seq} has an unreadable scope '{scopeText}' or origin '{origin}'."));
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
            TraceParent = OutpostTracing.Readable(reader.IsDBNull(13) ? null : reader.GetString(13)),
            Payload = payload,
        };
    }

    private LogCorruptionException Corrupt(LogCorruptionException ex)
    {
        if (_corruption.Record(ex))
        {
            CoreMetrics.CorruptRecords.Add(1);
            Log.CorruptRecord(_logger, ex, ex.Seq ?? -1, _name);
        }

        return ex;
    }

    private async ValueTask<AppendResult[]> EnqueueAsync(AppendRequest request, CancellationToken cancellationToken)
    {
        // The rows' COPY encoding, on the appending thread: the single writer only fills in what it decides.
        request.Prepared ??= PostgresCopyRows.Encode(request.Events, _options.Topics);
        cancellationToken.ThrowIfCancellationRequested();
        var span = request.StartSpan("postgresql");
        if (!_queue.Writer.TryWrite(request))
        {
            span?.Dispose();
            throw new ObjectDisposedException(nameof(PostgresEventLog), $"Log '{_name}' is closed.");
        }

        // Once queued, an append is committed whatever the caller does, so the caller waits for that outcome: a
        // caller that gave up here would leave its lock around a check-then-append with its events still on their
        // way, and a retry in that gap would append them again (a till's timed-out sale, recorded twice).
        return await request.CommittedAsync(span);
    }

    /// <summary>
    /// The writer, on its own thread: groups what is queued and writes it. While the groups before are copying and
    /// committing, the next is staged: placed ahead of the <c>log_head</c> lock on the head the groups before will
    /// leave (see <see cref="PostgresLogWriter.TryStage"/>), copied by a <see cref="CopyLoop"/> beside the others,
    /// and committed by <see cref="FinishLoop"/> in order. So the log's one order no longer means one write stream
    /// that stops for each commit's round trips. With nothing to stage on (the first group, or another node wrote
    /// since), the group is committed here, lock first, once everything handed on has committed.
    /// </summary>
    private void WriteLoop()
    {
        var reader = _queue.Reader;
        try
        {
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                _inFlight.Wait();
                var group = new List<AppendRequest>();
                var events = 0;
                while (events < _options.MaxEventsPerCommit && reader.TryRead(out var request))
                {
                    group.Add(request);
                    events += Math.Max(1, request.Events.Count);
                }

                // Staged and handed on under the gate: a rollback of what is staged (which takes the gate) finds it.
                lock (_stageGate)
                {
                    if (_writer.TryStage(group) is { } staged)
                    {
                        _copies.Writer.TryWrite(staged);
                        _staged.Writer.TryWrite(staged);
                        continue;
                    }
                }

                for (var other = 1; other < PostgresLogWriter.MaxStaged; other++)
                {
                    _inFlight.Wait();
                }

                try
                {
                    CommitGroup(group, g => _writer.Commit(g, predict: ReferenceEquals(g, group)));
                }
                finally
                {
                    _inFlight.Release(PostgresLogWriter.MaxStaged);
                }
            }
        }
        finally
        {
            _copies.Writer.TryComplete();
            _staged.Writer.TryComplete();
        }
    }

    /// <summary>Copies staged groups' rows, each into its own open transaction, beside the other copy loops.</summary>
    private void CopyLoop()
    {
        var reader = _copies.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var staged))
            {
                try
                {
                    if (!staged.Abandoned)
                    {
                        PostgresLogWriter.Copy(staged);
                    }
                }
                catch (Exception ex)
                {
                    // Finishing sees it: the group is rolled back and written again, lock first.
                    staged.CopyFailure = ex;
                }
                finally
                {
                    staged.Copied.Set();
                }
            }
        }
    }

    /// <summary>
    /// Commits the staged groups, in the order they were staged, each after the one before. When one is refused
    /// (another writer committed first) or fails, the groups staged behind it are rolled back before anything is
    /// written again under the lock, since their rows would hold sequences that writing needs; then each is written
    /// again, in order, lock first.
    /// </summary>
    private void FinishLoop()
    {
        var reader = _staged.Reader;
        var again = new Queue<IReadOnlyList<AppendRequest>>();
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var staged))
            {
                staged.Copied.Wait();
                CommitStaged(staged.Group, g =>
                {
                    if (ReferenceEquals(g, staged.Group) && _writer.TryFinish(staged) is { } head)
                    {
                        return head;
                    }

                    RollBackStaged(again);
                    return _writer.Commit(g);
                });
                while (again.TryDequeue(out var group))
                {
                    CommitStaged(group, g => _writer.Commit(g));
                }
            }
        }
    }

    /// <summary>Commits a group handed on by the writer and frees its place among those in flight.</summary>
    private void CommitStaged(IReadOnlyList<AppendRequest> group, Func<IReadOnlyList<AppendRequest>, long> commit)
    {
        try
        {
            CommitGroup(group, commit);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>
    /// Waits out a group being staged and handed on (none is staged after this: the writer's prediction is gone),
    /// then rolls back every staged group waiting to commit, keeping their appends, in order, to be written again.
    /// A staged group left behind would hold rows the writing again waits on, while it waits to be committed after
    /// that writing: a wait no lock timeout or deadlock check would end.
    /// </summary>
    private void RollBackStaged(Queue<IReadOnlyList<AppendRequest>> again)
    {
        lock (_stageGate)
        {
        }

        while (_staged.Reader.TryRead(out var later))
        {
            later.Abandoned = true;
            later.Copied.Wait();
            later.Dispose();
            again.Enqueue(later.Group);
        }
    }

    /// <summary>An unreachable or refusing database fails the callers of that group; the writer carries on.</summary>
    private void CommitGroup(IReadOnlyList<AppendRequest> group, Func<IReadOnlyList<AppendRequest>, long> commit)
    {
        GroupCommit.Run(group, commit,
            ex => ex is NpgsqlException or InvalidOperationException or TimeoutException,
            (ex, request) =>
            {
                Log.CommitFailed(_logger, ex, request.Events.Count);
                PostgresUnavailable.ForgetConnections(_source, ex);
            },
            AdvanceHead,
            _name);
        foreach (var request in group)
        {
            (request.Prepared as PostgresCopyRows)?.Release();
        }
    }

    private void AdvanceHead(long head)
    {
        var current = Volatile.Read(ref _head);
        while (head > current)
        {
            var seen = Interlocked.CompareExchange(ref _head, head, current);
            if (seen == current)
            {
                _committed.Pulse();
                return;
            }

            current = seen;
        }
    }

    /// <summary>
    /// Follows other nodes' commits: LISTEN on the log's channel, and re-read the head on (re)connect and every
    /// few seconds, so a notification lost with a dropped connection delays a wake-up, never loses it.
    /// </summary>
    private Task ListenLoopAsync()
    {
        const string read = "SELECT seq FROM log_head WHERE id = 1";
        async Task ReadHeadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand(read, connection);
            AdvanceHead((long)(await command.ExecuteScalarAsync(cancellationToken))!);
        }

        return PostgresListener.RunAsync(
            _source.OpenConnectionAsync,
            Channel,
            payload =>
            {
                if (long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var head))
                {
                    AdvanceHead(head);
                }
            },
            ReadHeadAsync,
            ReadHeadAsync,
            HeadRefresh,
            (ex, delay) => Log.ListenFailed(_logger, ex, delay.TotalMilliseconds),
            _closing.Token);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "An append of {Count} events failed and wrote nothing.")]
        public static partial void CommitFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(2, LogLevel.Critical, "Corrupt record {Seq} in log {Name}; it is not served.")]
        public static partial void CorruptRecord(ILogger logger, Exception exception, long seq, string name);

        [LoggerMessage(3, LogLevel.Warning, "Listening for other nodes' commits failed; retrying in {DelayMs} ms.")]
        public static partial void ListenFailed(ILogger logger, Exception exception, double delayMs);
    }
}
