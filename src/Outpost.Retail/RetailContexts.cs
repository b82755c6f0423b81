using Outpost.Core.Consumers;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Loyalty;
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

    /// <summary>In-store barcode layouts.</summary>
    public IReadOnlyList<VariableMeasureLayout> BarcodeLayouts { get; init; } = VariableMeasureLayout.Defaults;
}

/// <summary>
/// The retail bounded contexts of one store over its log: their tables, the consumers that build their read
/// models, and their services. A host runs <see cref="Consumers"/> as durable consumers and serves the services;
/// tests and the scenario runner call <see cref="CatchUpAsync"/> instead.
/// </summary>
public sealed class RetailContexts : IDisposable
{
    private RetailContexts(IEventLog log, StoreContext store, RetailOptions options, IPaymentTerminal terminal, TimeProvider time)
    {
        Log = log;
        Store = store;
        Catalog = new CatalogQueries(log, options.BarcodeLayouts);
        Prices = new PriceBook(log, store);
        Pricing = new PriceCheck(Catalog, Prices, new PromotionEngine(options.Checkout.Taxes.Rounding), store);
        Promotions = new PromotionCatalog(log, store);
        Campaigns = new StoreCampaigns(log, store, Catalog);
        Loyalty = new LoyaltyService(log, options.Loyalty);
        Checkout = new CheckoutService(log, store, Pricing, Promotions, Loyalty, terminal, options.Checkout, time);
        Consumers = [new CatalogProjection(), new PriceBookProjection(store), new PromotionsProjection(store), new LoyaltyProjection(store), new CheckoutProjection()];
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

    /// <summary>The consumers that build the contexts' read models.</summary>
    public IReadOnlyList<IEventConsumer> Consumers { get; }

    /// <summary>Creates the contexts' tables and the services.</summary>
    public static async Task<RetailContexts> OpenAsync(IEventLog log, StoreContext store, RetailOptions options, IPaymentTerminal terminal, TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        await CatalogProjection.CreateTablesAsync(log, cancellationToken);
        await PriceBookProjection.CreateTablesAsync(log, cancellationToken);
        await PromotionsProjection.CreateTablesAsync(log, cancellationToken);
        await LoyaltyProjection.CreateTablesAsync(log, cancellationToken);
        await CheckoutProjection.CreateTablesAsync(log, cancellationToken);
        return new RetailContexts(log, store, options, terminal, time);
    }

    /// <summary>Brings every read model up to the end of the log (for tests and one-shot tools; a host runs the consumers instead).</summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        foreach (var consumer in Consumers)
        {
            await new ConsumerRunner(Log, consumer, new ConsumerOptions { RetryDelay = TimeSpan.Zero, MaxAttempts = 1 }).CatchUpAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Loyalty.Dispose();
        Checkout.Dispose();
    }
}
