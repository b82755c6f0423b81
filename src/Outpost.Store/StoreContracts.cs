using Outpost.Core.Contracts;
using Outpost.Retail;
using Outpost.Sync;

namespace Outpost.Store;

/// <summary>
/// The event contracts of a store server: every retail, rollout and replication type, and the store's own local ones.
/// This is every contract Outpost has (HQ knows the same less the store-local ones); <c>outpost contracts</c> writes
/// them to <c>docs/contracts/</c>.
/// </summary>
public static class StoreContracts
{
    /// <summary>The store's catalog.</summary>
    public static ContractCatalog Catalog { get; } = new(
    [
        .. RetailContracts.All,
        .. SyncContracts.All,
        EventContract.FromRecord(PriceSchedule.Topic, PriceSchedule.PricesChanged, 1, StoreJsonContext.Default.ScheduleTick),
    ]);
}
