using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail;
using Outpost.Retail.Checkout;
using Outpost.Sync.Agent;

namespace Outpost.Cli.Simulation;

/// <summary>One stand-in store as the plan names it: its id, its index in the fleet, its region and zone, its credential and its home HQ node.</summary>
internal sealed record StandInSpec(string Id, int Index, string Region, string Zone, string Secret, int Home,
    Outpost.Retail.Checkout.EventVersions Versions = Outpost.Retail.Checkout.EventVersions.Current);

/// <summary>
/// A protocol-faithful stand-in for a store server, for fleets larger than real store servers allow: its own event
/// log on its own SQLite file (the durable outbox and cursors of a real store, the same class), the replication
/// agent's links (up link by priority lane, down cursor, <see cref="SyncClient"/>) run a round at a time
/// (<see cref="ReplicationRounds"/>) talking to HQ over the loopback, and a till that appends each completed sale on
/// the daily curve in the store's zone. What it does not run: the agent's own loops (heartbeats, backoff, the down
/// stream: its host's rounds are its schedule), the store's HTTP API, checkout's pricing and payments, read models,
/// devices. A sale counts as acknowledged once its append returned, as a till's does once the store answered; after a
/// crash the till goes on from the sales in the log, by their ids, as a till completes with its idempotency key: none
/// is made twice.
/// </summary>
internal sealed class StandInStore : IAsyncDisposable
{
    private readonly SqliteEventLog _log;
    private readonly ReplicationRounds _rounds;
    private readonly SyncClient _client;
    private readonly TimeZoneInfo _zone;
    private int _appended;

    private StandInStore(StandInSpec spec, SqliteEventLog log, SyncClient client, ConnectivityMonitor monitor, ReplicationRounds rounds)
    {
        Spec = spec;
        _log = log;
        _client = client;
        Monitor = monitor;
        _rounds = rounds;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(spec.Zone);
    }

    public StandInSpec Spec { get; }

    public ConnectivityMonitor Monitor { get; }

    /// <summary>Sales in its log: acknowledged to its till.</summary>
    public int Appended => Volatile.Read(ref _appended);

    /// <summary>The file of a stand-in's log in the stand-ins' folder.</summary>
    public static string LogPath(string directory, string id) => Path.Combine(directory, id + ".db");

    /// <summary>
    /// Opens (or creates) its log, through <paramref name="link"/> (the node failover and the link's faults) to HQ, on
    /// <paramref name="connections"/>: the process's pool, shared by its stores.
    /// </summary>
    public static async Task<StandInStore> OpenAsync(StandInSpec spec, string directory, DelegatingHandler link, HttpMessageHandler connections, CancellationToken cancellationToken)
    {
        // synchronous=NORMAL: a commit survives a process crash, which is what the simulation inflicts (SIGKILL), not a
        // power cut; an fsync per sale across thousands of files on one disk would measure the disk, not replication.
        var log = SqliteEventLog.Open(new LogOptions { Path = LogPath(directory, spec.Id), NodeId = spec.Id, Topics = RetailTopics.Catalog, Durability = LogDurability.Normal });
        // A blackholed request ends after two seconds, not ten: a host's pass over its stores waits for it.
        var options = new SyncClientOptions
        {
            Central = new Uri("http://hq.invalid/"), StoreId = spec.Id, Secret = spec.Secret, MaxInFlight = 2, RequestTimeout = TimeSpan.FromSeconds(2),
        };
        var monitor = new ConnectivityMonitor(TimeProvider.System);
        var client = new SyncClient(options, monitor, link, connections: connections);
        var rounds = new ReplicationRounds(log, client, monitor, options, TimeProvider.System, NullLoggerFactory.Instance);
        var store = new StandInStore(spec, log, client, monitor, rounds);
        store._appended = (int)await log.CountAsync(0, Completed, cancellationToken);
        return store;
    }

    private static readonly ReadFilter Completed = new() { Topics = [CheckoutEvents.SalesTopic], Types = [CheckoutEvents.SaleCompleted] };

    /// <summary>
    /// Appends the planned sales not in its log yet whose moment is at or before <paramref name="until"/> (simulated,
    /// from the span's start), each with its own moment: the sales its till made since the last round.
    /// </summary>
    public async Task SellUntilAsync(IReadOnlyList<TimeSpan> times, DateTimeOffset simulatedStart, TimeSpan until, CancellationToken cancellationToken)
    {
        // A turn's sales in one transaction, one commit rather than one per sale.
        var sales = new List<NewEvent>();
        for (var k = Appended; k < times.Count && times[k] <= until; k++)
        {
            sales.Add(Sale(k, simulatedStart + times[k], _zone));
        }

        if (sales.Count > 0)
        {
            await _log.AppendBatchAsync(sales, cancellationToken: cancellationToken);
            Interlocked.Add(ref _appended, sales.Count);
        }
    }

    /// <summary>One replication round (up, then down); false when the link failed it (the monitor says why).</summary>
    public async Task<bool> RoundAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _rounds.RoundAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>What every stand-in's sale id holds, and no real store's (those are hexadecimal).</summary>
    public const string SaleMark = "-sale-";

    /// <summary>The id of its <paramref name="k"/>th sale: the same after any crash.</summary>
    public static string SaleId(string store, int k) => string.Create(CultureInfo.InvariantCulture, $"{store}{SaleMark}{k:D6}");

    private NewEvent Sale(int k, DateTimeOffset at, TimeZoneInfo zone)
    {
        var id = SaleId(Spec.Id, k);
        var product = k % FleetSimulation.Priced.Count;
        var quantity = 1 + k % 3;
        var unit = FleetSimulation.ShelfPrice(product);
        var total = unit * quantity;
        var line = new SaleLineV1(1, FleetSimulation.Priced[product], "product " + FleetSimulation.Priced[product], quantity, unit, total, total, "standard", "shelf");
        var local = TimeZoneInfo.ConvertTime(at, zone).DateTime;
        var sale = new SaleCompletedV2(id, "basket-" + id, id, Spec.Id, "till-1", null, at, local, "EUR",
            [line], [], [], total, 0m, total, [], 0m, true, [new SaleTenderV1("cash", total, total)], 0m, null, DateOnly.FromDateTime(local));
        return CheckoutEvents.SaleCompletedEvent(sale, Spec.Versions);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _log.DisposeAsync();
    }
}
