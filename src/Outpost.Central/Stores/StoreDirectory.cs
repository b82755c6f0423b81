using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Threading;
using Outpost.Sync.Hq;

namespace Outpost.Central.Stores;

/// <summary>
/// HQ's registry of stores, in a table of HQ's own database (SQLite or PostgreSQL, whichever holds the log, so
/// every HQ node sees the same credentials): id, region, and the SHA-256 of the store's secret (32 random bytes,
/// so a plain hash is enough), compared in constant time. Credentials are checked from memory
/// (<see cref="CredentialCache"/>); issuing, rotating and revoking take effect on the next request, on every node,
/// and end the store's held long polls.
/// </summary>
public sealed class StoreDirectory(IEventLog log, TimeProvider time, ILogger<StoreDirectory>? logger = null) : IStoreDirectory, IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS stores(
            id          TEXT   PRIMARY KEY,
            region      TEXT   NOT NULL,
            secret_hash TEXT   NOT NULL,
            revoked     BIGINT NOT NULL DEFAULT 0,
            issued_at   BIGINT NOT NULL,
            latitude    DOUBLE PRECISION,
            longitude   DOUBLE PRECISION)
        """;

    private readonly OnceSucceeded _created = new(cancellationToken => log.CreateTablesAsync(Schema, cancellationToken));
    private readonly CredentialCache _cache = new(log, (ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <inheritdoc />
    public async ValueTask<StoreAuthentication> AuthenticateAsync(string storeId, string secret, CancellationToken cancellationToken)
    {
        while (true)
        {
            var generation = _cache.Generation;
            var presented = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
            var cached = _cache.Find(storeId);
            var credential = cached ?? await ReadCredentialAsync(storeId, generation, cancellationToken);

            // A secret the cache does not know may be one rotated on another node a moment ago, whose notification is
            // still on its way: the table decides before the store is refused.
            if (cached is not null && !CryptographicOperations.FixedTimeEquals(cached.Hash, presented))
            {
                credential = await ReadCredentialAsync(storeId, generation, cancellationToken);
            }

            if (credential is null || !CryptographicOperations.FixedTimeEquals(credential.Hash, presented))
            {
                return new StoreAuthentication(null);
            }

            if (credential.Revoked)
            {
                return new StoreAuthentication(null, Revoked: true);
            }

            // Watched only once valid (a flood of made-up store ids leaves nothing behind), and trusted only if no
            // change was learnt of since the credential was found: one that came in between is checked again.
            var changed = _cache.Watch(storeId);
            if (_cache.Generation == generation)
            {
                return new StoreAuthentication(new StoreIdentity(storeId, credential.Region), Changed: changed);
            }
        }
    }

    /// <summary>A store's credential from the table, kept in the cache unless a change was learnt of since <paramref name="generation"/>; null for an unknown store (not kept).</summary>
    private async Task<CredentialCache.Credential?> ReadCredentialAsync(string storeId, long generation, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT region, secret_hash, revoked FROM stores WHERE id = @id";
        command.With("@id", storeId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var credential = new CredentialCache.Credential(Convert.FromHexString(reader.GetString(1)), reader.GetString(0), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture) != 0);
        _cache.Keep(storeId, credential, generation);
        return credential;
    }

    /// <summary>Registers a store and issues its first credential.</summary>
    /// <exception cref="ArgumentException">The id or region is not valid.</exception>
    /// <exception cref="InvalidOperationException">The store exists already.</exception>
    public async Task<IssuedCredential> RegisterAsync(string storeId, string region, CancellationToken cancellationToken = default) =>
        await RegisterAsync(storeId, region, null, cancellationToken);

    /// <summary>Registers a store with where it is (for "nearest store with stock"), and issues its first credential.</summary>
    /// <exception cref="ArgumentException">The id, region or location is not valid.</exception>
    /// <exception cref="InvalidOperationException">The store exists already.</exception>
    public async Task<IssuedCredential> RegisterAsync(string storeId, string region, GeoPoint? location, CancellationToken cancellationToken = default)
    {
        if (!Scope.IsValidId(storeId) || !Scope.IsValidId(region))
        {
            throw new ArgumentException("Store id and region must be 1-64 letters, digits, '-', '_' or '.'.");
        }

        if (location is { } point && (point.Latitude is < -90 or > 90 || point.Longitude is < -180 or > 180 || double.IsNaN(point.Latitude) || double.IsNaN(point.Longitude)))
        {
            throw new ArgumentException("Latitude must be within -90..90 and longitude within -180..180 degrees.");
        }

        var secret = NewSecret();
        var inserted = await WriteAsync("INSERT INTO stores(id, region, secret_hash, issued_at, latitude, longitude) VALUES(@id, @region, @hash, @at, @lat, @lon) ON CONFLICT(id) DO NOTHING", cancellationToken,
            ("@id", storeId), ("@region", region), ("@hash", Hash(secret)), ("@at", time.GetUtcNow().ToUnixTimeMilliseconds()),
            ("@lat", location?.Latitude), ("@lon", location?.Longitude));
        return inserted == 1
            ? new IssuedCredential(storeId, region, secret)
            : throw new InvalidOperationException($"Store '{storeId}' is registered already; rotate its credential instead.");
    }

    /// <summary>Issues a new secret; the old one stops working at once, on every node. Also lifts a revocation. Null for an unknown store.</summary>
    public async Task<IssuedCredential?> RotateAsync(string storeId, CancellationToken cancellationToken = default)
    {
        var secret = NewSecret();
        await _created.EnsureAsync(cancellationToken);
        string? region;
        await using (var tx = await log.BeginTransactionAsync(cancellationToken))
        {
            await using var update = tx.CreateCommand("UPDATE stores SET secret_hash = @hash, revoked = 0, issued_at = @at WHERE id = @id RETURNING region")
                .With("@id", storeId).With("@hash", Hash(secret)).With("@at", time.GetUtcNow().ToUnixTimeMilliseconds());
            region = await update.ExecuteScalarAsync(cancellationToken) as string;
            await AnnounceAsync(tx, storeId, cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        _cache.Forget(storeId);
        return region is null ? null : new IssuedCredential(storeId, region, secret);
    }

    /// <summary>One registered store, or null.</summary>
    public async Task<StoreRecord?> FindAsync(string storeId, CancellationToken cancellationToken = default) =>
        (await ListAsync(storeId, cancellationToken)).SingleOrDefault();

    /// <summary>Registers the store, or issues it a new secret if it is registered already (demos and first set-up).</summary>
    public async Task<IssuedCredential> RegisterOrRotateAsync(string storeId, string region, CancellationToken cancellationToken = default) =>
        await RotateAsync(storeId, cancellationToken) ?? await RegisterAsync(storeId, region, cancellationToken);

    /// <summary>Revokes a store's credential: on every node its next request is refused, and its held long polls end.</summary>
    public async Task<bool> RevokeAsync(string storeId, CancellationToken cancellationToken = default)
    {
        await _created.EnsureAsync(cancellationToken);
        int changed;
        await using (var tx = await log.BeginTransactionAsync(cancellationToken))
        {
            changed = await tx.ExecuteAsync("UPDATE stores SET revoked = 1 WHERE id = @id", cancellationToken, ("@id", storeId));
            await AnnounceAsync(tx, storeId, cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        _cache.Forget(storeId);
        return changed == 1;
    }

    /// <summary>Tells the other HQ nodes, when the transaction commits, that the store's credential changed.</summary>
    private async Task AnnounceAsync(ILogTransaction tx, string storeId, CancellationToken cancellationToken)
    {
        if (_cache.Shared)
        {
            await using var notify = tx.CreateCommand($"SELECT pg_notify('{CredentialCache.Channel}', @id)").With("@id", storeId);
            await notify.ExecuteScalarAsync(cancellationToken);
        }
    }

    /// <summary>Every registered store.</summary>
    public Task<IReadOnlyList<StoreRecord>> ListAsync(CancellationToken cancellationToken = default) => ListAsync(null, cancellationToken);

    private async Task<IReadOnlyList<StoreRecord>> ListAsync(string? only, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, region, revoked, issued_at, latitude, longitude FROM stores" + (only is null ? "" : " WHERE id = @id") + " ORDER BY id";
        if (only is not null)
        {
            command.With("@id", only);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var stores = new List<StoreRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            stores.Add(new StoreRecord(reader.GetString(0), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture) != 0,
                DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture)),
                reader.IsDBNull(4) || reader.IsDBNull(5) ? null : new GeoPoint(Convert.ToDouble(reader.GetValue(4), CultureInfo.InvariantCulture), Convert.ToDouble(reader.GetValue(5), CultureInfo.InvariantCulture))));
        }

        return stores;
    }

    private async Task<int> WriteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await _created.EnsureAsync(cancellationToken);
        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        var changed = await tx.ExecuteAsync(sql, cancellationToken, parameters);
        await tx.CommitAsync(cancellationToken);
        return changed;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _cache.DisposeAsync();

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
