using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// A write transaction on the log's database (BEGIN IMMEDIATE) for read models and checkpoints. <paramref name="storage"/>
/// is told whether it could write: true on commit, false when a statement or the commit met a full disk.
/// </summary>
internal sealed class SqliteLogTransaction(SqliteConnection connection, SqliteTransaction transaction, TimeProvider time, Action release, Action<bool> storage) : ILogTransaction
{
    private int _disposed;

    private bool _committed;

    public DbConnection Connection => connection;

    public DbTransaction Transaction => transaction;

    public SqliteConnection SqliteConnection => connection;

    public DbCommand CreateCommand(string sql) => Command(sql);

    public SqliteCommand Command(string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    public ValueTask SetCursorAsync(string name, CursorKind kind, long value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using var command = Command(SqliteLogCommands.UpsertCursor);
        command.Parameters.Add(new SqliteParameter("$name", null));
        command.Parameters.Add(new SqliteParameter("$kind", null));
        command.Parameters.Add(new SqliteParameter("$value", null));
        SqliteLogCommands.SetCursor(command, name, kind, value);
        return ValueTask.CompletedTask;
    }

    public ValueTask ParkAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(letter);
        using var command = Command("""
            INSERT INTO dead_letters(consumer, seq, topic, type, attempts, error, parked_at)
            VALUES($consumer, $seq, $topic, $type, $attempts, $error, $parked_at)
            ON CONFLICT(consumer, seq) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, parked_at = excluded.parked_at
            """);
        command.Parameters.AddWithValue("$consumer", letter.Consumer);
        command.Parameters.AddWithValue("$seq", letter.Seq);
        command.Parameters.AddWithValue("$topic", letter.Topic);
        command.Parameters.AddWithValue("$type", letter.Type);
        command.Parameters.AddWithValue("$attempts", letter.Attempts);
        command.Parameters.AddWithValue("$error", letter.Error);
        command.Parameters.AddWithValue("$parked_at", (letter.ParkedAt == default ? time.GetUtcNow() : letter.ParkedAt).ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
        return ValueTask.CompletedTask;
    }

    public ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        try
        {
            transaction.Commit();
        }
        catch (SqliteException ex) when (LogFullException.Is(ex))
        {
            storage(false);
            throw;
        }

        _committed = true;
        storage(true);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            if (!_committed)
            {
                // A statement that met a full disk threw to its caller; the connection still remembers why.
                if (SQLitePCL.raw.sqlite3_errcode(connection.Handle) == SQLitePCL.raw.SQLITE_FULL)
                {
                    storage(false);
                }

                await transaction.RollbackAsync();
            }

            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
        finally
        {
            release();
        }
    }
}
