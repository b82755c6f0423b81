using Outpost.Core.Consumers;
using Outpost.Core.Log;

namespace Outpost.Central.Ingest;

/// <summary>HQ's read models: their tables (created once, before the first write or query) and their consumers.</summary>
public sealed class HqReadModels(IEventLog log)
{
    private readonly Lazy<Task> _created = new(() => CreateAsync(log));

    /// <summary>The consumers that keep the read models.</summary>
    public IReadOnlyList<IEventConsumer> Consumers { get; } = [new SalesByDay(), new StockByStore(), new CampaignList(), new MasterData.AuditTrail(log.Topics)];

    /// <summary>Completes once every read model's table exists.</summary>
    public Task EnsureCreatedAsync() => _created.Value;

    private static async Task CreateAsync(IEventLog log)
    {
        foreach (var ddl in new[] { ConsumerLease.Schema, SalesByDay.Schema, StockByStore.Schema, CampaignList.Schema, MasterData.AuditTrail.Schema })
        {
            await log.CreateTablesAsync(ddl, CancellationToken.None);
        }
    }
}
