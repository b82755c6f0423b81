using System.Data.Common;
using Npgsql;
using Outpost.Core.Log;

namespace Outpost.Core.Postgres;

/// <summary>A read model's write transaction on the log's PostgreSQL database; other writers are not held back.</summary>
internal sealed class PostgresLogTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, TimeProvider time) : ILogTransaction
{
    private bool _committed;
    private int _disposed;

    public DbConnection Connection => connection;

    public DbTransaction Transaction => transaction;

    public DbCommand CreateCommand(string sql) => new NpgsqlCommand(sql, connection, transaction);

    public async ValueTask SetCursorAsync(string name, CursorKind kind, long value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await PostgresLogCommands.SetCursorAsync(connection, transaction, name, kind, value, cancellationToken);
    }

    public async ValueTask ParkAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(letter);
        await using var command = new NpgsqlCommand("""
            INSERT INTO dead_letters(consumer, seq, topic, type, attempts, error, parked_at)
            VALUES($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (consumer, seq) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, parked_at = excluded.parked_at
            """, connection, transaction);
        command.Parameters.AddWithValue(letter.Consumer);
        command.Parameters.AddWithValue(letter.Seq);
        command.Parameters.AddWithValue(letter.Topic);
        command.Parameters.AddWithValue(letter.Type);
        command.Parameters.AddWithValue(letter.Attempts);
        command.Parameters.AddWithValue(letter.Error);
        command.Parameters.AddWithValue((letter.ParkedAt == default ? time.GetUtcNow() : letter.ParkedAt).ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        await transaction.CommitAsync(cancellationToken);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_committed)
        {
            try
            {
                await transaction.RollbackAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // The connection is gone; the server rolls back on its own.
            }
        }

        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
