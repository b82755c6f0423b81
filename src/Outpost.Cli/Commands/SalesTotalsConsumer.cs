using System.Globalization;
using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Cli.Commands;

/// <summary>A read model for the demo: takings per till, written in the consumer's transaction.</summary>
internal sealed class SalesTotalsConsumer : IEventConsumer
{
    public string Name => "demo-sales-totals";

    public ReadFilter Filter { get; } = ReadFilter.ForTopics("sales");

    public static async Task CreateAsync(IEventLog log, CancellationToken cancellationToken)
    {
        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        await using var command = tx.CreateCommand("CREATE TABLE IF NOT EXISTS demo_takings(till TEXT PRIMARY KEY, sales INTEGER NOT NULL, total TEXT NOT NULL)");
        await command.ExecuteNonQueryAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public static async Task<List<(string Till, long Sales, decimal Total)>> ReadAsync(IEventLog log, CancellationToken cancellationToken)
    {
        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        await using var command = tx.CreateCommand("SELECT till, sales, total FROM demo_takings ORDER BY till");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(string, long, decimal)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1), decimal.Parse(reader.GetString(2), CultureInfo.InvariantCulture)));
        }

        return rows;
    }

    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        var root = JsonDocument.Parse(e.Payload).RootElement;
        var till = root.GetProperty("till").GetString()!;
        var total = decimal.Parse(root.GetProperty("total").GetString()!, CultureInfo.InvariantCulture);

        // Money is decimal, stored as text so SQLite never turns it into a double.
        await using var read = transaction.CreateCommand("SELECT total FROM demo_takings WHERE till = $till");
        read.With("$till", till);
        var before = await read.ExecuteScalarAsync(cancellationToken) is string text ? decimal.Parse(text, CultureInfo.InvariantCulture) : 0m;
        await using var write = transaction.CreateCommand("""
            INSERT INTO demo_takings(till, sales, total) VALUES($till, 1, $total)
            ON CONFLICT(till) DO UPDATE SET sales = sales + 1, total = $total
            """);
        write.With("$till", till).With("$total", (before + total).ToString(CultureInfo.InvariantCulture));
        await write.ExecuteNonQueryAsync(cancellationToken);
    }
}
