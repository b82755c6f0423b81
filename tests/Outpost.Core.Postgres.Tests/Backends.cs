using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Core.Topics;
using Outpost.Testing;

[assembly: AssemblyFixture(typeof(PostgresServer))]

namespace Outpost.Core.Postgres.Tests;

/// <summary>One database under a log, in a fresh place per test: a SQLite file or a PostgreSQL database.</summary>
public abstract class Backend : IAsyncDisposable
{
    private readonly List<IEventLog> _open = [];

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));

    public abstract string Name { get; }

    /// <summary>Opens the log (again) as <paramref name="node"/>.</summary>
    public async Task<IEventLog> OpenAsync(string node = "hq", TopicCatalog? topics = null)
    {
        var log = await OpenCoreAsync(new LogOptions { NodeId = node, Time = Time, Topics = topics ?? TopicCatalog.Empty, Path = "unused" });
        _open.Add(log);
        return log;
    }

    /// <summary>Closes a log opened here.</summary>
    public async Task CloseAsync(IEventLog log)
    {
        _open.Remove(log);
        await log.DisposeAsync();
    }

    /// <summary>Changes one stored payload byte behind the log's back, as a damaged disk would.</summary>
    public abstract Task TamperAsync(IEventLog log, long seq);

    public override string ToString() => Name;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var log in _open)
        {
            await log.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected abstract Task<IEventLog> OpenCoreAsync(LogOptions options);
}

public sealed class SqliteBackend : Backend
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-tests", Guid.NewGuid().ToString("N"));

    public override string Name => "SQLite";

    public override async Task TamperAsync(IEventLog log, long seq)
    {
        await using var connection = await log.OpenReadConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE events SET payload = CAST('{\"total\":\"0.01\"}' AS BLOB) WHERE seq = @seq";
        command.With("@seq", seq);
        await command.ExecuteNonQueryAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    protected override Task<IEventLog> OpenCoreAsync(LogOptions options)
    {
        options.Path = Path.Combine(_directory, "log.db");
        return Task.FromResult<IEventLog>(SqliteEventLog.Open(options));
    }
}

public sealed class PostgresBackend(string connectionString) : Backend
{
    public string ConnectionString { get; } = connectionString;

    public override string Name => "PostgreSQL";

    public override async Task TamperAsync(IEventLog log, long seq)
    {
        await using var connection = await log.OpenReadConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE events SET payload = convert_to('{\"total\":\"0.01\"}', 'UTF8') WHERE seq = @seq";
        command.With("@seq", seq);
        await command.ExecuteNonQueryAsync();
    }

    protected override async Task<IEventLog> OpenCoreAsync(LogOptions options) => await PostgresEventLog.OpenAsync(ConnectionString, options);
}
