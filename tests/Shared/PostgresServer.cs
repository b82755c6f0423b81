using Outpost.Core.Postgres;

namespace Outpost.Testing;

/// <summary>
/// One real, throwaway PostgreSQL 15 server for a test run (<see cref="LocalPostgresServer"/>, fsync off: these
/// tests are about behaviour, not power cuts), and a fresh database per test.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly LocalPostgresServer _server = new(durable: false);

    public string AdminConnectionString => _server.AdminConnectionString;

    public ValueTask InitializeAsync() => new(_server.StartAsync());

    /// <summary>Creates an empty database and returns its connection string (pool of 30, enough for one test).</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default) =>
        await _server.CreateDatabaseAsync(cancellationToken) + ";Maximum Pool Size=30";

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
