using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Core.Tests.Consumers;

/// <summary>A read model that counts events per key in its own table, in the consumer's transaction.</summary>
internal sealed class SalesCountConsumer(string name = "sales-count") : IEventConsumer
{
    public string Name { get; } = name;

    public ReadFilter Filter { get; } = ReadFilter.ForTopics("sales");

    /// <summary>Throws for an event while this returns true, after writing to the read model.</summary>
    public Func<StoredEvent, bool> FailWhen { get; set; } = _ => false;

    /// <summary>What it throws then.</summary>
    public Func<StoredEvent, Exception> Failure { get; set; } = e => new InvalidOperationException($"cannot read {e.Key}");

    public int Calls;

    public static async Task CreateTableAsync(IEventLog log)
    {
        await using var tx = await log.BeginTransactionAsync();
        await using var command = tx.CreateCommand("CREATE TABLE IF NOT EXISTS rm_sales(key TEXT PRIMARY KEY, n INTEGER NOT NULL)");
        await command.ExecuteNonQueryAsync();
        await tx.CommitAsync(CancellationToken.None);
    }

    public static async Task<Dictionary<string, long>> CountsAsync(IEventLog log)
    {
        await using var tx = await log.BeginTransactionAsync();
        await using var command = tx.CreateCommand("SELECT key, n FROM rm_sales");
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        await using var command = transaction.CreateCommand("INSERT INTO rm_sales(key, n) VALUES($key, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1");
        var p = command.CreateParameter();
        p.ParameterName = "$key";
        p.Value = e.Key;
        command.Parameters.Add(p);
        await command.ExecuteNonQueryAsync(cancellationToken);
        if (FailWhen(e))
        {
            throw Failure(e);
        }
    }
}
