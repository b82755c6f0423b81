using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Retail.Checkout;

/// <summary>
/// The tills' baskets: working state, not facts, kept in a SQLite file of their own beside the log
/// (<c>store.db</c> → <c>store.baskets.db</c>). Every scan saves its basket; in the log's file those saves took turns
/// with the log's writer, which holds the file's write lock through each sale's fsync, so a scan at one till waited
/// for a sale at another. Here a save is a small write-ahead-log append without fsync (<c>synchronous=NORMAL</c>):
/// a basket survives a crash of the server, and only a power cut may lose its last scans; a sale is never in
/// this file (it is an event in the log, appended durably before the till hears "done").
/// </summary>
/// <remarks>One connection serves every call in turn: a basket read or save takes tens of microseconds.</remarks>
public sealed partial class BasketStore : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly WalCheckpointer _checkpoints;
    private readonly string _path;
    private long _saves;
    private string? _storageProblem;

    private BasketStore(string path, string connectionString, SqliteConnection connection, ILogger logger)
    {
        _path = path;
        _connection = connection;
        _checkpoints = new WalCheckpointer(() => Open(connectionString), () => Interlocked.Read(ref _saves), TimeSpan.FromSeconds(1),
            ex => Log.CheckpointFailed(logger, ex, path));
    }

    /// <summary>Why the last basket save was refused for a full disk, or null once a save succeeds (as the log's <see cref="IEventLog.StorageProblem"/>).</summary>
    public string? StorageProblem => Volatile.Read(ref _storageProblem);

    /// <summary>The basket file beside a SQLite log: <c>store.db</c> → <c>store.baskets.db</c>.</summary>
    public static string PathBeside(string logPath) => System.IO.Path.ChangeExtension(logPath, null) + ".baskets.db";

    /// <summary>
    /// Opens (creating if needed) the basket file. Baskets left open in the log's own file by an earlier version
    /// are moved here first.
    /// </summary>
    public static async Task<BasketStore> OpenAsync(string path, IEventLog? earlier, CancellationToken cancellationToken, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        var connection = Open(connectionString);
        await using (var setup = connection.CreateCommand())
        {
            // Checkpoints run in the background (WalCheckpointer), not inside the save that crosses the WAL's threshold.
            setup.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA wal_autocheckpoint = 0;
                CREATE TABLE IF NOT EXISTS baskets(
                    id TEXT PRIMARY KEY, till_id TEXT NOT NULL, status INTEGER NOT NULL, state TEXT NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS baskets_open ON baskets(till_id) WHERE status < 2;
                """;
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }

        var store = new BasketStore(path, connectionString, connection, logger ?? NullLogger.Instance);
        if (earlier is not null)
        {
            await store.MoveFromLogAsync(earlier, cancellationToken);
        }

        return store;
    }

    /// <summary>A basket's state, or null when there is no such basket.</summary>
    public async Task<BasketState?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "SELECT state FROM baskets WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return await command.ExecuteScalarAsync(cancellationToken) is string json
                ? JsonSerializer.Deserialize(json, CheckoutJsonContext.Default.BasketState)
                : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Saves a basket's state (insert or replace).</summary>
    public async Task SaveAsync(BasketState state, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var json = JsonSerializer.Serialize(state, CheckoutJsonContext.Default.BasketState);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await SaveAsync(state.Id, state.TillId, (int)state.Status, json, at.ToString("o", CultureInfo.InvariantCulture), cancellationToken);
            Interlocked.Increment(ref _saves);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The ids of the baskets still open (not completed or voided) at a till, oldest first.</summary>
    public async Task<IReadOnlyList<string>> OpenAtAsync(string tillId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id FROM baskets WHERE till_id = $till AND status < 2 ORDER BY id";
            command.Parameters.AddWithValue("$till", tillId);
            var ids = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _checkpoints.DisposeAsync();
        await _connection.DisposeAsync();
        _gate.Dispose();
    }

    private static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    private async Task SaveAsync(string id, string tillId, int status, string json, string at, CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO baskets(id, till_id, status, state, updated_at) VALUES($id, $till, $status, $state, $at)
            ON CONFLICT(id) DO UPDATE SET status = excluded.status, state = excluded.state, updated_at = excluded.updated_at
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$till", tillId);
        command.Parameters.AddWithValue("$status", status);
        command.Parameters.AddWithValue("$state", json);
        command.Parameters.AddWithValue("$at", at);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex) when (LogFullException.Is(ex))
        {
            Volatile.Write(ref _storageProblem, LogFullException.Describe(_path));
            throw;
        }

        Volatile.Write(ref _storageProblem, null);
    }

    /// <summary>
    /// Moves the open baskets an earlier version kept in the log's file (table <c>checkout_baskets</c>) here, then
    /// drops that table. Run again after a crash half-way, it moves them again: a save is an upsert.
    /// </summary>
    private async Task MoveFromLogAsync(IEventLog log, CancellationToken cancellationToken)
    {
        var moved = new List<(string Id, string Till, int Status, string State, string At)>();
        await using (var connection = await log.OpenReadConnectionAsync(cancellationToken))
        {
            if (!await HasTableAsync(connection, cancellationToken))
            {
                return;
            }

            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, till_id, status, state, updated_at FROM checkout_baskets WHERE status < 2";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                moved.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4)));
            }
        }

        foreach (var (id, till, status, state, at) in moved)
        {
            await SaveAsync(id, till, status, state, at, cancellationToken);
        }

        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        await using (var drop = tx.CreateCommand("DROP TABLE IF EXISTS checkout_baskets"))
        {
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    private static async Task<bool> HasTableAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'checkout_baskets'";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Background checkpoints of the basket file {Path} are failing; they are tried again (backing off to 10 s) and its WAL grows meanwhile.")]
        public static partial void CheckpointFailed(ILogger logger, Exception exception, string path);
    }
}
