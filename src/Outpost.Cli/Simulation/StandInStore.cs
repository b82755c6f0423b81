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
/// log on its own SQLite file (the durable outbox and cursors of a real store, the same class), the real replication
/// agent (up link, down stream, <see cref="SyncClient"/>, backoff, checkpoints) talking to HQ over the loopback, and a
/// till that appends each completed sale on the daily curve in the store's zone. What it does not run: the store's
/// HTTP API, checkout's pricing and payments, read models, devices. A sale counts as acknowledged once its append
/// returned, as a till's does once the store answered; after a crash the till goes on from the sales in the log, by
/// their ids, as a till completes with its idempotency key: none is made twice.
/// </summary>
internal sealed class StandInStore : IAsyncDisposable
{
    private readonly SqliteEventLog _log;
    private readonly ReplicationAgent _agent;
    private readonly SyncClient _client;
    private int _appended;

    private StandInStore(StandInSpec spec, SqliteEventLog log, SyncClient client, ConnectivityMonitor monitor, ReplicationAgent agent)
    {
        Spec = spec;
        _log = log;
        _client = client;
        Monitor = monitor;
        _agent = agent;
    }

    public StandInSpec Spec { get; }

    public ConnectivityMonitor Monitor { get; }

    /// <summary>Sales in its log: acknowledged to its till.</summary>
    public int Appended => Volatile.Read(ref _appended);

    /// <summary>The file of a stand-in's log in the stand-ins' folder.</summary>
    public static string LogPath(string directory, string id) => Path.Combine(directory, id + ".db");

    /// <summary>Opens (or creates) its log and starts its agent, through <paramref name="link"/> (the node failover and the link's faults).</summary>
    public static async Task<StandInStore> StartAsync(StandInSpec spec, string directory, DelegatingHandler link, CancellationToken cancellationToken)
    {
        // synchronous=NORMAL: a commit survives a process crash, which is what the simulation inflicts (SIGKILL), not a
        // power cut; an fsync per sale across thousands of files on one disk would measure the disk, not replication.
        var log = SqliteEventLog.Open(new LogOptions { Path = LogPath(directory, spec.Id), NodeId = spec.Id, Topics = RetailTopics.Catalog, Durability = LogDurability.Normal });
        var options = new SyncClientOptions { Central = new Uri("http://hq.invalid/"), StoreId = spec.Id, Secret = spec.Secret, MaxInFlight = 2 };
        var monitor = new ConnectivityMonitor(TimeProvider.System);
        var client = new SyncClient(options, monitor, link);
        var agent = new ReplicationAgent(log, client, monitor, Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
        var store = new StandInStore(spec, log, client, monitor, agent);
        store._appended = (int)await log.CountAsync(0, Completed, cancellationToken);
        await agent.StartAsync(cancellationToken);
        return store;
    }

    private static readonly ReadFilter Completed = new() { Topics = [CheckoutEvents.SalesTopic], Types = [CheckoutEvents.SaleCompleted] };

    /// <summary>
    /// Makes the planned sales not in its log yet, each at its moment: <paramref name="realAt"/> maps a simulated moment
    /// to the real instant it falls on. A sale whose moment passed while the process was down is made at once.
    /// </summary>
    public async Task SellAsync(IReadOnlyList<TimeSpan> times, DateTimeOffset simulatedStart, Func<TimeSpan, DateTimeOffset> realAt, CancellationToken cancellationToken)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(Spec.Zone);
        for (var k = Appended; k < times.Count; k++)
        {
            var wait = realAt(times[k]) - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            await _log.AppendAsync(Sale(k, simulatedStart + times[k], zone), cancellationToken);
            Interlocked.Increment(ref _appended);
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
        await _agent.StopAsync(CancellationToken.None);
        _agent.Dispose();
        _client.Dispose();
        await _log.DisposeAsync();
    }
}
