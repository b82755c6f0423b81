using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.Core.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Topics;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// The event log in one SQLite file (WAL). Appends go through a queue to a single writer that commits
/// everything queued in one transaction (group commit) and completes each caller after the commit.
/// Reads use their own pooled connections and never block the writer.
/// </summary>
/// <remarks>One process opens a log at a time: a lock file beside it refuses a second opener.</remarks>
public sealed partial class SqliteEventLog : IEventLog
{
    private readonly LogOptions _options;
    private readonly ILogger _logger;
    private readonly FileStream _lockFile;
    private readonly string _connectionString;
    private readonly SqliteConnection _writeConnection;
    private readonly SqliteLogWriter _writer;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Channel<AppendRequest> _queue;
    private readonly Task _writeLoop;
    private readonly WalCheckpointer _checkpoints;
    private readonly CommitSignal _committed = new();
    private readonly RowReader.Values _values = new();
    private long _head;
    private int _disposed;
    private readonly CorruptionLedger _corruption = new();
    private Exception? _writerFault;

    private SqliteEventLog(LogOptions options, ILogger logger, FileStream lockFile, string connectionString, SqliteConnection writeConnection,
        HybridLogicalClock clock, Dictionary<string, NodeState> nodes, NodeState self, long lastSeq)
    {
        _options = options;
        _logger = logger;
        _lockFile = lockFile;
        _connectionString = connectionString;
        _writeConnection = writeConnection;
        Clock = clock;
        NodeId = NodeId.Parse(self.Name);
        _head = lastSeq;
        _writer = new SqliteLogWriter(writeConnection, clock, nodes, self, lastSeq, _writeGate);
        _queue = Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
        _writeLoop = Task.Run(WriteLoopAsync);
        _checkpoints = new WalCheckpointer(() => OpenConnection(_connectionString, _options), () => Head, CheckpointInterval, ex => Log.CheckpointFailed(_logger, ex));
    }

    /// <inheritdoc />
    public NodeId NodeId { get; }

    /// <inheritdoc />
    public TopicCatalog Topics => _options.Topics;

    /// <inheritdoc />
    public HybridLogicalClock Clock { get; }

    /// <inheritdoc />
    public long Head => Volatile.Read(ref _head);

    /// <summary>The database file.</summary>
    public string Path => _options.Path;

    /// <inheritdoc />
    public long CorruptRecordsSeen => _corruption.Seen;

    /// <inheritdoc />
    public string? StorageProblem => Volatile.Read(ref _storageProblem);

    private string? _storageProblem;

    /// <summary>Whether a write (an append's commit, a read model's transaction) could be made, or met a full disk.</summary>
    private void StorageWrote(bool ok) => Volatile.Write(ref _storageProblem, ok ? null : LogFullException.Describe(Path));

    /// <summary>Opens (creating if needed) the log at <see cref="LogOptions.Path"/>.</summary>
    /// <exception cref="IOException">Another process has the log open.</exception>
    public static SqliteEventLog Open(LogOptions options, ILogger<SqliteEventLog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var self = NodeId.Parse(options.NodeId);
        var path = System.IO.Path.GetFullPath(options.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"Log '{path}' is open in another process (its lock file '{path}.lock' is held). Stop that process first.", ex);
        }

        SqliteConnection? connection = null;
        try
        {
            var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, Cache = SqliteCacheMode.Private }.ToString();
            connection = OpenConnection(connectionString, options);
            using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL";
                var mode = (string?)wal.ExecuteScalar();
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"Log '{path}' could not be put in WAL mode (SQLite answered '{mode}').");
                }
            }

            SqliteLogSchema.Apply(connection, path);
            using (var manual = connection.CreateCommand())
            {
                // Checkpoints run on their own connection in the background (WalCheckpointer), not inside
                // whichever append commit happens to cross the WAL's size threshold.
                manual.CommandText = "PRAGMA wal_autocheckpoint = 0";
                manual.ExecuteNonQuery();
            }

            var nodes = LoadNodes(connection);
            var selfState = nodes.Values.FirstOrDefault(n => n.Id == SqliteLogSchema.SelfId);
            if (selfState is null)
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO nodes(id, name) VALUES($id, $name)";
                insert.Parameters.AddWithValue("$id", SqliteLogSchema.SelfId);
                insert.Parameters.AddWithValue("$name", self.Value);
                insert.ExecuteNonQuery();
                selfState = new NodeState(SqliteLogSchema.SelfId, self.Value, 0, 0);
                nodes.Add(self.Value, selfState);
            }
            else if (selfState.Name != self.Value)
            {
                throw new InvalidOperationException($"Log '{path}' belongs to node '{selfState.Name}'; it cannot be opened as '{self}'. Each node keeps its own log.");
            }

            // This node's own origin seqs rise with seq, so the newest own event holds the highest; retention
            // saves it in nodes (and the last seq and clock in meta) before it deletes anything.
            var ownNewest = Scalar(connection, "SELECT coalesce((SELECT origin_seq FROM events WHERE origin_id = 1 ORDER BY seq DESC LIMIT 1), 0)");
            selfState.Max = Math.Max(selfState.Max, ownNewest);
            selfState.Contiguous = Math.Max(selfState.Contiguous, ownNewest);
            var lastSeq = Math.Max(Scalar(connection, "SELECT coalesce(max(seq), 0) FROM events"), Meta(connection, "last_seq"));
            var clock = new HybridLogicalClock(options.Time, new HlcTimestamp(Math.Max(Meta(connection, "hlc_high"), Scalar(connection, "SELECT coalesce(max(hlc), 0) FROM events"))), options.MaxClockDrift);
            return new SqliteEventLog(options, (ILogger?)logger ?? NullLogger.Instance, lockFile, connectionString, connection, clock, nodes, selfState, lastSeq);
        }
        catch
        {
            connection?.Dispose();
            lockFile.Dispose();
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
    public async ValueTask SetCursorAsync(string name, CursorKind kind, long value, CancellationToken cancellationToken = default) =>
        await EnqueueAsync(AppendRequest.CursorOnly(name, kind, value), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long?> GetCursorAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        return await LogQueries.CursorAsync(connection, name, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<long> GetContiguousOriginSeqAsync(NodeId origin, CancellationToken cancellationToken = default) =>
        ReadContiguousAsync(origin, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> HoldsOriginAsync(NodeId origin, long originSeq, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // Replicated origins go through the partial origin index; this node's own events are not in it.
        command.CommandText = origin == NodeId
            ? "SELECT 1 FROM events WHERE origin_id = 1 AND origin_seq = $seq"
            : "SELECT 1 FROM events WHERE origin_id = (SELECT id FROM nodes WHERE name = $name) AND origin_seq = $seq AND origin_id > 1";
        command.Parameters.AddWithValue("$name", origin.Value);
        command.Parameters.AddWithValue("$seq", originSeq);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <inheritdoc />
    public async ValueTask<EventPage> ReadAsync(long afterSeq, ReadFilter filter, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var head = Head;
        await using var connection = await OpenReaderAsync(cancellationToken);
        var events = new List<StoredEvent>(Math.Min(maxCount, 1024));
        var checksum = EventChecksum.Current;
        try
        {
            using var rows = new RowReader(connection, FilteredSql(SqliteLogCommands.SelectColumns, filter) + " ORDER BY e.seq LIMIT $limit", _values);
            rows.Bind("$after", afterSeq);
            BindFilter(rows, filter);
            rows.Bind("$limit", maxCount);
            while (rows.Next(checksum) is { } e)
            {
                cancellationToken.ThrowIfCancellationRequested();
                events.Add(e);
            }
        }
        catch (LogCorruptionException ex)
        {
            ReportCorruption(ex);
            throw;
        }
        catch (SqliteException ex) when (SqliteLogCommands.IsCorruption(ex))
        {
            var from = events.Count > 0 ? events[^1].Seq : afterSeq;
            var corruption = new LogCorruptionException(null, $"The log file is damaged after event {from}: SQLite reports '{ex.Message}'. Run 'outpost log verify {Path}'.", ex);
            ReportCorruption(corruption);
            throw corruption;
        }

        var scannedTo = events.Count == maxCount ? events[^1].Seq : Math.Max(head, events.Count > 0 ? events[^1].Seq : 0);
        return new EventPage(events, Math.Max(afterSeq, scannedTo));
    }

    /// <inheritdoc />
    public ValueTask<long> CountAsync(long afterSeq, ReadFilter filter, CancellationToken cancellationToken = default)
        => CountAsync(afterSeq, long.MaxValue, filter, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(long afterSeq, long throughSeq, ReadFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = FilteredSql("SELECT count(*) FROM events e", filter) + " AND e.seq <= $through";
        command.Parameters.AddWithValue("$after", afterSeq);
        command.Parameters.AddWithValue("$through", throughSeq);
        for (var i = 0; i < (filter.Topics?.Count ?? 0); i++)
        {
            command.Parameters.AddWithValue("$t" + i.ToString(CultureInfo.InvariantCulture), filter.Topics![i]);
        }

        for (var i = 0; i < (filter.Scopes?.Count ?? 0); i++)
        {
            command.Parameters.AddWithValue("$s" + i.ToString(CultureInfo.InvariantCulture), filter.Scopes![i].ToString());
        }

        for (var i = 0; i < (filter.Types?.Count ?? 0); i++)
        {
            command.Parameters.AddWithValue("$y" + i.ToString(CultureInfo.InvariantCulture), filter.Types![i]);
        }

        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The query for a filter, with parameters $after, $t0.. (topics), $s0.. (scopes) and $y0.. (types); never values in the text.</summary>
    private static string FilteredSql(string select, ReadFilter filter)
    {
        var sql = new System.Text.StringBuilder(select).Append(" WHERE e.seq > $after");
        if (filter.Topics is { } topics)
        {
            sql.Append(" AND e.topic IN (").Append(SqliteLogCommands.Placeholders("$t", topics.Count)).Append(')');
        }

        if (filter.Scopes is { } scopes)
        {
            sql.Append(" AND e.scope IN (").Append(SqliteLogCommands.Placeholders("$s", scopes.Count)).Append(')');
        }

        if (filter.Types is { } types)
        {
            sql.Append(" AND e.type IN (").Append(SqliteLogCommands.Placeholders("$y", types.Count)).Append(')');
        }

        return sql.ToString();
    }

    private static void BindFilter(RowReader rows, ReadFilter filter)
    {
        for (var i = 0; i < (filter.Topics?.Count ?? 0); i++)
        {
            rows.Bind("$t" + i.ToString(CultureInfo.InvariantCulture), filter.Topics![i]);
        }

        for (var i = 0; i < (filter.Scopes?.Count ?? 0); i++)
        {
            rows.Bind("$s" + i.ToString(CultureInfo.InvariantCulture), filter.Scopes![i].ToString());
        }

        for (var i = 0; i < (filter.Types?.Count ?? 0); i++)
        {
            rows.Bind("$y" + i.ToString(CultureInfo.InvariantCulture), filter.Types![i]);
        }
    }

    /// <inheritdoc />
    public ValueTask WaitForAppendAsync(long afterSeq, CancellationToken cancellationToken) => _committed.WaitPastAsync(() => Head, afterSeq, ThrowIfWriterFaulted, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<StoredEvent> TailAsync(long afterSeq, ReadFilter filter, CancellationToken cancellationToken) => LogTail.TailAsync(this, afterSeq, filter, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<DbConnection> OpenReadConnectionAsync(CancellationToken cancellationToken = default) => await OpenReaderAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask<ILogTransaction> BeginTransactionAsync(CancellationToken cancellationToken = default) => BeginTransactionAsync(_options.Durability, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<ILogTransaction> BeginTransactionAsync(LogDurability durability, CancellationToken cancellationToken = default)
    {
        // One writer at a time, in this process: the appends' writer and these transactions queue here instead of
        // sleeping in SQLite's busy handler (which waits 1, 2, 5, 10... ms between tries). The transaction's
        // disposal lets the next writer in; nothing may append while holding one.
        await _writeGate.WaitAsync(cancellationToken);
        SqliteConnection? connection = null;
        try
        {
            connection = OpenConnection(_connectionString, _options.Durability == durability ? _options : new LogOptions
            {
                Path = _options.Path,
                NodeId = _options.NodeId,
                Durability = durability,
                BusyTimeout = _options.BusyTimeout,
            });
            var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            return new SqliteLogTransaction(connection, tx, _options.Time, () => _writeGate.Release(), StorageWrote);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            _writeGate.Release();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string? consumer = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        return await LogQueries.DeadLettersAsync(connection, consumer, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<DeadLetterPage> GetLatestDeadLettersAsync(int max, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        return await LogQueries.LatestDeadLettersAsync(connection, max, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<LogStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        return await LogQueries.StatsAsync(connection, Head, CorruptRecordsSeen, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<RetentionReport> ApplyRetentionAsync(CancellationToken cancellationToken = default)
    {
        await using var tx = (SqliteLogTransaction)await BeginTransactionAsync(cancellationToken);
        var report = await SqliteRetention.ApplyAsync(tx, _options.Topics, _options.Time.GetUtcNow(), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        foreach (var (topic, count) in report.Evicted)
        {
            CoreMetrics.Evicted.Add(count, new KeyValuePair<string, object?>("topic", topic));
        }

        if (report.Total > 0)
        {
            Log.RetentionApplied(_logger, report.Deleted.Values.Sum(), report.Compacted.Values.Sum(), report.Evicted.Values.Sum());
        }

        return report;
    }

    /// <summary>Stops accepting appends, lets queued ones commit, and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _checkpoints.DisposeAsync();
        try
        {
            await _writeLoop;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.WriterStopped(_logger, ex);
        }

        _writer.Dispose();
        await _writeConnection.DisposeAsync();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        await _lockFile.DisposeAsync();
    }

    internal static SqliteConnection OpenConnection(string connectionString, LogOptions options)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            PRAGMA synchronous = {(options.Durability == LogDurability.Full ? "FULL" : "NORMAL")};
            PRAGMA busy_timeout = {(int)options.BusyTimeout.TotalMilliseconds};
            PRAGMA foreign_keys = OFF;
            """;
        command.ExecuteNonQuery();
        return connection;
    }

    private async ValueTask<AppendResult[]> EnqueueAsync(AppendRequest request, CancellationToken cancellationToken)
    {
        ThrowIfWriterFaulted();
        cancellationToken.ThrowIfCancellationRequested();
        var span = request.StartSpan("sqlite");
        if (!_queue.Writer.TryWrite(request))
        {
            span?.Dispose();
            throw new ObjectDisposedException(nameof(SqliteEventLog), $"Log '{Path}' is closed.");
        }

        // Once queued, an append is committed whatever the caller does, so the caller waits for that outcome: a
        // caller that gave up here would leave its lock around a check-then-append with its events still on their
        // way, and a retry in that gap would append them again (a till's timed-out sale, recorded twice).
        return await request.CommittedAsync(span);
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var group = new List<AppendRequest>(256);
        try
        {
            while (await reader.WaitToReadAsync())
            {
                var events = 0;
                while (events < _options.MaxEventsPerCommit && reader.TryRead(out var request))
                {
                    group.Add(request);
                    events += Math.Max(1, request.Events.Count);
                }

                CommitGroup(group);
                group.Clear();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Only a failure of the commit machinery itself lands here; fail everything still queued.
            _writerFault = ex;
            Log.WriterFailed(_logger, ex);
            foreach (var request in group)
            {
                request.Completion.TrySetException(ex);
            }

            while (reader.TryRead(out var request))
            {
                request.Completion.TrySetException(ex);
            }

            _committed.Pulse();
            throw;
        }
    }

    /// <summary>How often the WAL is copied into the file when anything was committed (see <see cref="WalCheckpointer"/>).</summary>
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(100);

    private void CommitGroup(List<AppendRequest> group) => GroupCommit.Run(group,
        g =>
        {
            try
            {
                _writer.Commit(g);
            }
            catch (SqliteException ex) when (LogFullException.Is(ex))
            {
                // SQLite rolled the transaction back whole: say so in words, and keep saying it on health until a
                // commit succeeds again.
                StorageWrote(false);
                throw new LogFullException(StorageProblem!, ex);
            }

            StorageWrote(true);
            return _writer.LastSeq;
        },
        ex => ex is SqliteException or InvalidOperationException or LogFullException,
        (ex, request) => Log.CommitFailed(_logger, ex, request.Events.Count),
        head =>
        {
            Volatile.Write(ref _head, head);
            _committed.Pulse();
        },
        Path);

    private void ThrowIfWriterFaulted()
    {
        if (_writerFault is { } fault)
        {
            throw new InvalidOperationException($"Log '{Path}' stopped writing after an error: {fault.Message}", fault);
        }
    }

    private void ReportCorruption(LogCorruptionException ex)
    {
        if (_corruption.Record(ex))
        {
            CoreMetrics.CorruptRecords.Add(1);
            Log.CorruptRecord(_logger, ex, ex.Seq ?? -1, Path);
        }
    }

    private async ValueTask<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async ValueTask<long> ReadContiguousAsync(NodeId origin, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT contiguous_seq FROM nodes WHERE name = $name";
        command.Parameters.AddWithValue("$name", origin.Value);
        return await command.ExecuteScalarAsync(cancellationToken) is long value ? value : 0;
    }

    private static Dictionary<string, NodeState> LoadNodes(SqliteConnection connection)
    {
        var nodes = new Dictionary<string, NodeState>(StringComparer.Ordinal);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, contiguous_seq, max_seq FROM nodes";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var state = new NodeState(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3));
            nodes.Add(state.Name, state);
        }

        return nodes;
    }

    internal static long Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
    }

    private static long Meta(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() is long value ? value : 0;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Event log writer failed; appends are refused until the log is reopened.")]
        public static partial void WriterFailed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "Event log writer stopped with an error while closing.")]
        public static partial void WriterStopped(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Error, "An append of {Count} events failed and wrote nothing.")]
        public static partial void CommitFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(4, LogLevel.Critical, "Corrupt record {Seq} in log {Path}; it is not served.")]
        public static partial void CorruptRecord(ILogger logger, Exception exception, long seq, string path);

        [LoggerMessage(6, LogLevel.Warning, "Background WAL checkpoints of the log are failing; they are tried again (backing off to 10 s) and the WAL grows meanwhile.")]
        public static partial void CheckpointFailed(ILogger logger, Exception exception);

        [LoggerMessage(5, LogLevel.Information, "Retention removed {Deleted} done, {Compacted} compacted and {Evicted} evicted events.")]
        public static partial void RetentionApplied(ILogger logger, long deleted, long compacted, long evicted);
    }
}
