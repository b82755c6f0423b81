using Microsoft.Extensions.Logging;
using Outpost.Core.Consumers;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Gate;
using Outpost.Retail.Inventory;
using Outpost.Retail.Labels;
using Outpost.Retail.Loyalty;
using Outpost.Retail.Orders;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail;

/// <summary>Settings of a store's retail contexts.</summary>
public sealed record RetailOptions
{
    /// <summary>Checkout rules (taxes, floor limit, returns).</summary>
    public CheckoutOptions Checkout { get; init; } = new();

    /// <summary>The loyalty scheme.</summary>
    public LoyaltyOptions Loyalty { get; init; } = new();

    /// <summary>How the read models' consumers retry and batch.</summary>
    public ConsumerOptions Consumers { get; init; } = new();

    /// <summary>
    /// The baskets' own SQLite file (<see cref="BasketStore"/>); by default beside a SQLite log
    /// (<c>store.db</c> → <c>store.baskets.db</c>). Required when the log is not a SQLite file.
    /// </summary>
    public string? BasketsPath { get; init; }

    /// <summary>In-store barcode layouts.</summary>
    public IReadOnlyList<VariableMeasureLayout> BarcodeLayouts { get; init; } = VariableMeasureLayout.Defaults;
}

/// <summary>
/// The retail bounded contexts of one store over its log: their tables, the consumers that build their read
/// models, and their services. A host runs <see cref="Consumers"/> as durable consumers and serves the services;
/// tests and the scenario runner call <see cref="CatchUpAsync"/> instead.
/// </summary>
public sealed class RetailContexts : IAsyncDisposable
{
    private readonly Dictionary<string, (ConsumerRunner Runner, SemaphoreSlim Gate)> _runners = new(StringComparer.Ordinal);
    private CancellationTokenSource? _running;
    private Task[] _loops = [];

    private readonly BasketStore _baskets;

    private RetailContexts(IEventLog log, BasketStore baskets, StoreContext store, RetailOptions options, IPaymentTerminal terminal, TimeProvider time, ILoggerFactory? loggers)
    {
        Log = log;
        _baskets = baskets;
        Store = store;
        // What every price check, scan and menu reads, kept in memory; each cache is emptied by the consumer that writes
        // its read model, after that consumer commits (ICommitListener).
        var products = new ReadCache<string, Product?>(comparer: StringComparer.Ordinal);
        var promotions = new ReadCache<byte, PromotionIndex>();
        var unavailable = new ReadCache<byte, Unavailable>();
        var prices = new ReadCache<string, ProductPrices>(comparer: StringComparer.Ordinal);
        Catalog = new CatalogQueries(log, options.BarcodeLayouts, products);
        Prices = new PriceBook(log, store, prices);
        Pricing = new PriceCheck(Catalog, Prices, new PromotionEngine(options.Checkout.Taxes.Rounding), store);
        Promotions = new PromotionCatalog(log, store, promotions);
        Campaigns = new StoreCampaigns(log, store, Catalog, WaitForAsync);
        Loyalty = new LoyaltyService(log, options.Loyalty, WaitForAsync);
        Checkout = new CheckoutService(log, baskets, store, Pricing, Promotions, Loyalty, terminal, options.Checkout, time, WaitForAsync);
        Inventory = new InventoryService(log, store, WaitForAsync, unavailable);
        Menu = new MenuService(Catalog, Pricing, Promotions, Inventory, time);
        Gate = new GateService(log, store, Loyalty, Checkout, time);
        Labels = new LabelService(log, Catalog, Pricing, Promotions, time);
        Orders = new OrderService(log, store, Menu, Pricing, Promotions, time, WaitForAsync);
        Consumers = [new CatalogProjection(products), new PriceBookProjection(store, prices), new PromotionsProjection(store, promotions), new LoyaltyProjection(store),
            new CheckoutProjection(), new InventoryProjection(unavailable), new OrdersProjection(), new NearbyStockProjection(store)];
        foreach (var consumer in Consumers)
        {
            _runners[consumer.Name] = (new ConsumerRunner(log, consumer, options.Consumers, time, loggers?.CreateLogger<ConsumerRunner>()), new SemaphoreSlim(1, 1));
        }
    }

    /// <summary>The store's log.</summary>
    public IEventLog Log { get; }

    /// <summary>The store.</summary>
    public StoreContext Store { get; }

    /// <summary>Catalog lookups.</summary>
    public CatalogQueries Catalog { get; }

    /// <summary>The price book.</summary>
    public PriceBook Prices { get; }

    /// <summary>The one pricing function: labels, price checks, tills, kiosks, receipts.</summary>
    public PriceCheck Pricing { get; }

    /// <summary>Store campaigns (store-only prices and promotions).</summary>
    public StoreCampaigns Campaigns { get; }

    /// <summary>The store's promotions.</summary>
    public PromotionCatalog Promotions { get; }

    /// <summary>Loyalty.</summary>
    public LoyaltyService Loyalty { get; }

    /// <summary>Checkout.</summary>
    public CheckoutService Checkout { get; }

    /// <summary>Stock counts and availability.</summary>
    public InventoryService Inventory { get; }

    /// <summary>The menu with availability.</summary>
    public MenuService Menu { get; }

    /// <summary>The walk-out gate.</summary>
    public GateService Gate { get; }

    /// <summary>Shelf labels and the ones to re-print.</summary>
    public LabelService Labels { get; }

    /// <summary>Kiosk, till and mobile orders.</summary>
    public OrderService Orders { get; }

    /// <summary>The consumers that build the contexts' read models.</summary>
    public IReadOnlyList<IEventConsumer> Consumers { get; }

    /// <summary>Why the store's data cannot be written now (the log's or the baskets' disk full), or null.</summary>
    public string? StorageProblem => Log.StorageProblem ?? _baskets.StorageProblem;

    /// <summary>The read models' health: position, parked events, last error.</summary>
    public IReadOnlyList<ConsumerStatus> Status => [.. _runners.Values.Select(r => r.Runner.Status)];

    /// <summary>Creates the contexts' tables and the services.</summary>
    public static async Task<RetailContexts> OpenAsync(IEventLog log, StoreContext store, RetailOptions options, IPaymentTerminal terminal, TimeProvider time,
        CancellationToken cancellationToken, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        await CatalogProjection.CreateTablesAsync(log, cancellationToken);
        await PriceBookProjection.CreateTablesAsync(log, cancellationToken);
        await PromotionsProjection.CreateTablesAsync(log, cancellationToken);
        await LoyaltyProjection.CreateTablesAsync(log, cancellationToken);
        await CheckoutProjection.CreateTablesAsync(log, cancellationToken);
        await InventoryProjection.CreateTablesAsync(log, cancellationToken);
        await NearbyStockProjection.CreateTablesAsync(log, cancellationToken);
        await OrdersProjection.CreateTablesAsync(log, cancellationToken);
        await LabelService.CreateTablesAsync(log, cancellationToken);
        var sqlite = log as SqliteEventLog;
        var basketsPath = options.BasketsPath ?? (sqlite is not null ? BasketStore.PathBeside(sqlite.Path)
            : throw new ArgumentException("RetailOptions.BasketsPath is required when the log is not a SQLite file.", nameof(options)));
        var baskets = await BasketStore.OpenAsync(basketsPath, sqlite, cancellationToken, loggers?.CreateLogger<BasketStore>());
        return new RetailContexts(log, baskets, store, options, terminal, time, loggers);
    }

    /// <summary>
    /// The next instant at which a price, a store campaign or a promotion starts or ends (what a label, a till or a
    /// menu board shows changes then, with no event arriving); null when nothing is scheduled. Store-local times
    /// that do not exist (skipped by a daylight-saving change) count from the first minute after the gap.
    /// </summary>
    public async Task<DateTimeOffset?> NextPriceChangeAsync(DateTimeOffset after, CancellationToken cancellationToken)
    {
        var local = Store.LocalTime(after);
        var candidates = new List<DateTime>();
        if (await Prices.NextChangeAsync(local, cancellationToken) is { } price)
        {
            candidates.Add(price);
        }

        foreach (var promotion in (await Promotions.GetAsync(cancellationToken)).All)
        {
            candidates.AddRange(new[] { promotion.FromLocal, promotion.ToLocal }.OfType<DateTime>().Where(t => t > local));
        }

        if (candidates.Count == 0)
        {
            return null;
        }

        var next = DateTime.SpecifyKind(candidates.Min(), DateTimeKind.Unspecified);
        while (Store.TimeZone.IsInvalidTime(next))
        {
            next = next.AddMinutes(1);
        }

        return new DateTimeOffset(next, Store.TimeZone.GetUtcOffset(next));
    }

    /// <summary>Starts the consumers: each read model follows the log until <see cref="DisposeAsync"/>.</summary>
    public void Start()
    {
        if (_running is not null)
        {
            return;
        }

        _running = new CancellationTokenSource();
        _loops = [.. _runners.Values.Select(r => Task.Run(() => r.Runner.RunAsync(_running.Token)))];
    }

    /// <summary>
    /// Completes once a read model has handled every event up to a sequence: what a service waits for after
    /// appending, so its next read sees its own write. Without <see cref="Start"/>, it catches the model up.
    /// </summary>
    public async Task WaitForAsync(string consumer, long seq, CancellationToken cancellationToken)
    {
        var (runner, gate) = _runners[consumer];
        if (_running is not null)
        {
            await runner.WaitForPositionAsync(seq, cancellationToken);
            return;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            await runner.CatchUpAsync(cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Completes once every read model has handled every event up to a sequence.</summary>
    public async Task CatchUpToAsync(long seq, CancellationToken cancellationToken)
    {
        foreach (var name in _runners.Keys)
        {
            await WaitForAsync(name, seq, cancellationToken);
        }
    }

    /// <summary>Brings every read model up to the end of the log.</summary>
    public Task CatchUpAsync(CancellationToken cancellationToken) => CatchUpToAsync(Log.Head, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_running is { } running)
        {
            await running.CancelAsync();
            await Task.WhenAll(_loops);
            running.Dispose();
        }

        foreach (var (_, gate) in _runners.Values)
        {
            gate.Dispose();
        }

        Loyalty.Dispose();
        Orders.Dispose();
        await _baskets.DisposeAsync();
    }
}
