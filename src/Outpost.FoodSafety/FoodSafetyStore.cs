using Microsoft.Data.Sqlite;

namespace Outpost.FoodSafety;

/// <summary>
/// The service's own data, in its own SQLite file: each fridge's state and the position of the last reading applied,
/// written together in one transaction, so that after a crash the service resumes exactly after what it applied.
/// </summary>
public sealed class FoodSafetyStore : IDisposable
{
    private readonly SqliteConnection _connection;

    private FoodSafetyStore(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (creating) the service's database in its data folder.</summary>
    public static async Task<FoodSafetyStore> OpenAsync(string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "food-safety.db"), Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS fridges(fridge TEXT PRIMARY KEY, out_since INTEGER NULL, alarmed INTEGER NOT NULL, haccp_slot INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS checkpoint(id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new FoodSafetyStore(connection);
    }

    /// <summary>The position of the last reading applied (0: none).</summary>
    public async Task<long> CheckpointAsync(CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.CommandText = "SELECT position FROM checkpoint WHERE id = 1";
        return await command.ExecuteScalarAsync(cancellationToken) is long position ? position : 0;
    }

    /// <summary>A fridge's state.</summary>
    public async Task<FridgeState> FridgeAsync(string fridge, CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.CommandText = "SELECT out_since, alarmed, haccp_slot FROM fridges WHERE fridge = $fridge";
        command.Parameters.AddWithValue("$fridge", fridge);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FridgeState(reader.IsDBNull(0) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetInt64(1) != 0, reader.GetInt64(2))
            : FridgeState.New;
    }

    /// <summary>Writes a fridge's new state (if any) and the checkpoint, together.</summary>
    public async Task SaveAsync(string? fridge, FridgeState? state, long position, CancellationToken cancellationToken)
    {
        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        await using var command = _connection.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction;
        if (fridge is not null && state is not null)
        {
            command.CommandText = """
                INSERT INTO fridges(fridge, out_since, alarmed, haccp_slot) VALUES($fridge, $since, $alarmed, $slot)
                ON CONFLICT(fridge) DO UPDATE SET out_since = excluded.out_since, alarmed = excluded.alarmed, haccp_slot = excluded.haccp_slot;
                """;
            command.Parameters.AddWithValue("$fridge", fridge);
            command.Parameters.AddWithValue("$since", state.OutSince is { } since ? since.ToUnixTimeMilliseconds() : DBNull.Value);
            command.Parameters.AddWithValue("$alarmed", state.Alarmed ? 1 : 0);
            command.Parameters.AddWithValue("$slot", state.HaccpSlot);
            await command.ExecuteNonQueryAsync(cancellationToken);
            command.Parameters.Clear();
        }

        command.CommandText = "INSERT INTO checkpoint(id, position) VALUES(1, $position) ON CONFLICT(id) DO UPDATE SET position = excluded.position";
        command.Parameters.AddWithValue("$position", position);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _connection.Dispose();
}
