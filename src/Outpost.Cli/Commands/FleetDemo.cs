using Outpost.Sync.Faults;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Outpost.Central;
using Outpost.Central.Fleet;
using Outpost.Central.Stores;
using Outpost.Cli.Bench;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Store;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Commands;

/// <summary>
/// Part two of <c>outpost demo</c>: HQ and three stores on 127.0.0.1 with free ports. Stores sell and their
/// sales reach HQ; HQ changes prices by scope and each store gets exactly its own; store-003's link is
/// pulled, it keeps selling, and when the link returns it catches up by itself.
/// </summary>
internal static class FleetDemo
{
    private static readonly (string Id, string Region)[] Stores = [("store-001", "north"), ("store-002", "north"), ("store-003", "south")];

    public static async Task RunAsync(TextWriter output, string directory, CancellationToken cancellationToken)
    {
        output.WriteLine("Part 2. HQ and three stores on this machine");
        await using var hq = CentralHost.Build(new CentralOptions { DataDirectory = Path.Combine(directory, "hq"), Urls = "http://127.0.0.1:0", Topics = RetailTopics.Catalog }, Quiet);
        await hq.StartAsync(cancellationToken);
        var registry = hq.Services.GetRequiredService<StoreDirectory>();
        var hqLog = hq.Services.GetRequiredService<IEventLog>();
        output.WriteLine($"  HQ listening on {hq.Address()}");

        await using var plug = new FaultProxy(hq.Address());
        var stores = new List<WebApplication>();
        try
        {
            foreach (var (id, region) in Stores)
            {
                var options = new StoreOptions { StoreId = id, DataDirectory = Path.Combine(directory, id), Urls = "http://127.0.0.1:0", Topics = RetailTopics.Catalog };
                options.Sync.Central = id == "store-003" ? plug.Address : hq.Address();
                options.Sync.Secret = (await registry.RegisterOrRotateAsync(id, region, cancellationToken)).Secret;
                options.Sync.BackoffCap = TimeSpan.FromSeconds(1);
                var store = StoreHost.Build(options, Quiet);
                await store.StartAsync(cancellationToken);
                stores.Add(store);
                output.WriteLine($"  {id} ({region}) listening on {store.Address()}, its link to HQ {(id == "store-003" ? "through a plug we can pull" : "direct")}");
            }

            foreach (var store in stores)
            {
                await SellAsync(store, 300, cancellationToken);
            }

            await PublishAsync(hqLog, "5000000000017", Scope.All, "1.99", cancellationToken);
            await PublishAsync(hqLog, "5000000000024", Scope.Region("north"), "0.89", cancellationToken);
            await PublishAsync(hqLog, "5000000000031", Scope.Store("store-003"), "4.49", cancellationToken);
            await ConvergeAsync(hqLog, stores, cancellationToken);
            output.WriteLine("  Each store sold 300; HQ changed three prices: one for all, one for the north, one for store-003.");
            await ReportAsync(output, hqLog, stores, cancellationToken);

            var cut = stores[2];
            output.WriteLine("  Pulling store-003's plug. It keeps selling; HQ changes a price meanwhile.");
            plug.Mode = ProxyMode.Reset;
            var monitor = cut.Services.GetRequiredService<ConnectivityMonitor>();
            await UntilAsync(() => monitor.Current.State == ConnectivityState.Offline, cancellationToken);
            await SellAsync(cut, 200, cancellationToken);
            await PublishAsync(hqLog, "5000000000017", Scope.All, "1.79", cancellationToken);
            await UntilAsync(() => monitor.Current.UpBacklog >= 200, cancellationToken);
            var offline = monitor.Current;

            // The backlog is every event waiting; its sales are counted from the log, past what HQ acknowledged of their lane.
            var cutLog = cut.Services.GetRequiredService<IEventLog>();
            var acked = await cutLog.GetCursorAsync("up:hq:" + Outpost.Core.Topics.TopicPriority.Critical.ToString().ToLowerInvariant(), cancellationToken) ?? 0;
            var salesWaiting = await cutLog.CountAsync(acked, ReadFilter.ForTopics(Outpost.Retail.Checkout.CheckoutEvents.SalesTopic), cancellationToken);
            output.WriteLine($"  store-003: {offline.State} since {offline.Since:HH:mm:ss}, {salesWaiting} sales waiting to go up ({offline.UpBacklog} events with the store's own " +
                $"telemetry: its warnings about the link, its health); last error: {offline.LastError}");

            var restored = Stopwatch.StartNew();
            plug.Mode = ProxyMode.Pass;
            await ConvergeAsync(hqLog, stores, cancellationToken);
            output.WriteLine($"  Plug back in: store-003 was {monitor.Current.State} again and had caught up both ways {restored.Elapsed.TotalSeconds:F1} s later, by itself.");
            await ReportAsync(output, hqLog, stores, cancellationToken);

            output.WriteLine("  HQ's fleet view:");
            var fleet = hq.Services.GetRequiredService<FleetHealth>();
            await fleet.FlushAsync(cancellationToken);
            foreach (var store in await fleet.ListAsync(cancellationToken))
            {
                output.WriteLine($"    {store.StoreId}  {(store.Connected ? "connected" : "not connected")}, last seen {store.LastSeen:HH:mm:ss}, version {store.Version}, events today {store.EventsToday,4}, backlog {store.Backlog}, lag {store.Lag}");
            }
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.StopAsync(CancellationToken.None);
                await store.DisposeAsync();
            }

            await hq.StopAsync(CancellationToken.None);
        }
    }

    private static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.None);

    private static async Task SellAsync(WebApplication store, int count, CancellationToken cancellationToken)
    {
        var log = store.Services.GetRequiredService<IEventLog>();
        var held = await log.CountAsync(0, ReadFilter.ForTopics("sales"), cancellationToken);
        for (var i = 0; i < count; i++)
        {
            var n = held + i;
            await log.AppendAsync(new NewEvent
            {
                Topic = "sales",
                Type = "SimulatedSale",
                Key = $"{log.NodeId}-{n.ToString(CultureInfo.InvariantCulture)}",
                Scope = Scope.Store(log.NodeId.Value),
                Payload = Encoding.UTF8.GetBytes($$"""{"basket":{{n}},"total":"{{n % 40 + 1.5m}}","currency":"EUR"}"""),
            }, cancellationToken);
        }
    }

    private static Task<AppendResult> PublishAsync(IEventLog hq, string gtin, Scope scope, string price, CancellationToken cancellationToken) =>
        hq.AppendAsync(new NewEvent { Topic = "prices", Type = "PriceChanged", Key = gtin, Scope = scope, Payload = Encoding.UTF8.GetBytes($$"""{"gtin":"{{gtin}}","price":"{{price}}","currency":"EUR"}""") }, cancellationToken).AsTask();

    /// <summary>Until HQ holds every store's sales and every store has HQ's events up to <paramref name="lastPrice"/>.</summary>
    /// <summary>
    /// Waits until each store is online, HQ holds all its sales, and it holds every price HQ published for its scopes
    /// (its cursor may stay behind HQ's head: events for other stores do not wake its feed).
    /// </summary>
    private static async Task ConvergeAsync(IEventLog hq, List<WebApplication> stores, CancellationToken cancellationToken)
    {
        for (var i = 0; i < stores.Count; i++)
        {
            var (id, region) = Stores[i];
            var log = stores[i].Services.GetRequiredService<IEventLog>();
            var monitor = stores[i].Services.GetRequiredService<ConnectivityMonitor>();
            var sales = await log.CountAsync(0, ReadFilter.ForTopics("sales"), cancellationToken);
            var prices = await hq.CountAsync(0, new ReadFilter { Topics = ["prices"], Scopes = [Scope.All, Scope.Region(region), Scope.Store(id)] }, cancellationToken);
            await UntilAsync(async () => monitor.Current.State == ConnectivityState.Online
                && await hq.CountAsync(0, new ReadFilter { Topics = ["sales"], Scopes = [Scope.Store(id)] }, cancellationToken) == sales
                && await log.CountAsync(0, ReadFilter.ForTopics("prices"), cancellationToken) == prices, cancellationToken);
        }
    }

    private static async Task ReportAsync(TextWriter output, IEventLog hq, List<WebApplication> stores, CancellationToken cancellationToken)
    {
        foreach (var store in stores)
        {
            var log = store.Services.GetRequiredService<IEventLog>();
            var atHq = await hq.CountAsync(0, new ReadFilter { Topics = ["sales"], Scopes = [Scope.Store(log.NodeId.Value)] }, cancellationToken);
            var prices = (await log.ReadAsync(0, ReadFilter.ForTopics("prices"), 100, cancellationToken)).Events
                .GroupBy(e => e.Key).Select(g => $"{g.Key[^3..]}={System.Text.Json.JsonDocument.Parse(g.Last().Payload).RootElement.GetProperty("price").GetString()}");
            output.WriteLine($"    {log.NodeId}: {atHq} sales at HQ; prices received: {string.Join(", ", prices)}");
        }
    }

    private static Task UntilAsync(Func<bool> condition, CancellationToken cancellationToken) => UntilAsync(() => Task.FromResult(condition()), cancellationToken);

    private static async Task UntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("The demo waited a minute for replication that did not happen.");
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}
