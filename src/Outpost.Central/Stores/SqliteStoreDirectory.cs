using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Outpost.Core.Events;
using Outpost.Sync.Hq;

namespace Outpost.Central.Stores;

/// <summary>
/// HQ's registry of stores in its own SQLite file: id, region, and the SHA-256 of the store's secret
/// (32 random bytes, so a plain hash is enough), compared in constant time. Issuing, rotating and revoking
/// take effect on the next request.
/// </summary>
public sealed class SqliteStoreDirectory : IStoreDirectory
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;

    /// <summary>Opens (creating if needed) the registry at <paramref name="path"/>.</summary>
    public SqliteStoreDirectory(string path, TimeProvider time)
    {
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS stores(
                id          TEXT PRIMARY KEY,
                region      TEXT NOT NULL,
                secret_hash BLOB NOT NULL,
                revoked     INTEGER NOT NULL DEFAULT 0,
                issued_at   INTEGER NOT NULL) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public async ValueTask<StoreAuthentication> AuthenticateAsync(string storeId, string secret, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT region, secret_hash, revoked FROM stores WHERE id = $id";
        command.Parameters.AddWithValue("$id", storeId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new StoreAuthentication(null);
        }

        var hash = (byte[])reader.GetValue(1);
        if (!CryptographicOperations.FixedTimeEquals(hash, Hash(secret)))
        {
            return new StoreAuthentication(null);
        }

        return reader.GetInt64(2) != 0 ? new StoreAuthentication(null, Revoked: true) : new StoreAuthentication(new StoreIdentity(storeId, reader.GetString(0)));
    }

    /// <summary>Registers a store and issues its first credential.</summary>
    /// <exception cref="ArgumentException">The id or region is not valid.</exception>
    /// <exception cref="InvalidOperationException">The store exists already.</exception>
    public IssuedCredential Register(string storeId, string region)
    {
        if (!Scope.IsValidId(storeId) || !Scope.IsValidId(region))
        {
            throw new ArgumentException("Store id and region must be 1-64 letters, digits, '-', '_' or '.'.");
        }

        var secret = NewSecret();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO stores(id, region, secret_hash, issued_at) VALUES($id, $region, $hash, $at) ON CONFLICT(id) DO NOTHING";
        command.Parameters.AddWithValue("$id", storeId);
        command.Parameters.AddWithValue("$region", region);
        command.Parameters.AddWithValue("$hash", Hash(secret));
        command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery() == 1
            ? new IssuedCredential(storeId, region, secret)
            : throw new InvalidOperationException($"Store '{storeId}' is registered already; rotate its credential instead.");
    }

    /// <summary>Issues a new secret; the old one stops working at once. Also lifts a revocation.</summary>
    public IssuedCredential? Rotate(string storeId)
    {
        var secret = NewSecret();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE stores SET secret_hash = $hash, revoked = 0, issued_at = $at WHERE id = $id RETURNING region";
        command.Parameters.AddWithValue("$id", storeId);
        command.Parameters.AddWithValue("$hash", Hash(secret));
        command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
        return command.ExecuteScalar() is string region ? new IssuedCredential(storeId, region, secret) : null;
    }

    /// <summary>Revokes a store's credential: its next request is refused.</summary>
    public bool Revoke(string storeId)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE stores SET revoked = 1 WHERE id = $id";
        command.Parameters.AddWithValue("$id", storeId);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Every registered store.</summary>
    public IReadOnlyList<StoreRecord> List()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, region, revoked, issued_at FROM stores ORDER BY id";
        using var reader = command.ExecuteReader();
        var stores = new List<StoreRecord>();
        while (reader.Read())
        {
            stores.Add(new StoreRecord(reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return stores;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
