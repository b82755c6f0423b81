using Outpost.Core.Consumers;
using Outpost.Core.Log;
using Outpost.Core.Threading;

namespace Outpost.Central.Ingest;

/// <summary>HQ's read models: their tables (created once, before the first write or query) and their consumers.</summary>
public sealed class HqReadModels(IEventLog log)
{
    private readonly OnceSucceeded _created = new(cancellationToken => CreateAsync(log, cancellationToken));

    /// <summary>The consumers that keep the read models.</summary>
    public IReadOnlyList<IEventConsumer> Consumers { get; } = [new SalesByDay(), new StockByStore(), new CampaignList(), new MasterData.AuditTrail(log.Topics), new Fleet.FleetDevices(), new Fleet.StoreHealthReports(), new Fleet.StoreLogs()];

    /// <summary>Completes once every read model's table exists.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _created.EnsureAsync(cancellationToken);

    private static async Task CreateAsync(IEventLog log, CancellationToken cancellationToken)
    {
        foreach (var ddl in new[] { ConsumerLease.Schema, SalesByDay.Schema, StockByStore.Schema, CampaignList.Schema, MasterData.AuditTrail.Schema, Fleet.FleetDevices.Schema, Fleet.StoreHealthReports.Schema, Fleet.StoreLogs.Schema })
        {
            await log.CreateTablesAsync(ddl, cancellationToken);
        }
    }
}
