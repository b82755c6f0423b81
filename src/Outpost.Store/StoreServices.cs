using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Retail.Pricing;
using Outpost.Store.Api;
using Outpost.Store.Devices;

namespace Outpost.Store;

/// <summary>The store server's services, ready once the host has started (before it accepts a request).</summary>
public sealed class StoreServices : IStorageHealth
{
    /// <summary>The enrolled devices.</summary>
    public DeviceRegistry Devices { get; internal set; } = null!;

    /// <summary>Pairing codes for new devices, and the security audit.</summary>
    public DevicePairing Pairing { get; internal set; } = null!;

    /// <summary>Failed sign-ins and pairings per client address.</summary>
    public FailureLimiter Limiter { get; internal set; } = null!;

    /// <summary>The services' grants (what each may publish and read).</summary>
    public Services.ServiceGrants Grants { get; internal set; } = null!;

    /// <summary>Appends services' events, idempotently by producer.</summary>
    public Services.ServicePublisher Publisher { get; internal set; } = null!;

    /// <summary>The event contracts: Outpost's and those services registered.</summary>
    public Services.ServiceContracts Contracts { get; internal set; } = null!;

    /// <summary>Services' durable subscriptions.</summary>
    public Services.Subscriptions Subscriptions { get; internal set; } = null!;

    /// <summary>The retail contexts.</summary>
    public RetailContexts Retail { get; internal set; } = null!;

    /// <summary>The payment terminal, with what its last contact with the payment host said.</summary>
    public Outpost.Retail.Checkout.WatchedPaymentTerminal Terminal { get; internal set; } = null!;

    /// <summary>Why the store's data cannot be written now (its log's or its baskets' disk full), or null.</summary>
    public string? Problem => (Retail as RetailContexts)?.StorageProblem;
}

/// <summary>Opens the devices and the retail contexts at start-up, runs their consumers, forwards offline card approvals, and closes them at shutdown.</summary>
internal sealed partial class StoreStartup(StoreServices services, LiveSettings live, IEventLog log, StoreOptions options, ILoggerFactory loggers, ILogger<StoreStartup> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var store = new StoreContext(options.StoreId, options.Region, TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone), Currency.Parse(options.Currency),
            options.BusinessDayStarts);
        services.Devices = await DeviceRegistry.OpenAsync(log, options.Time, cancellationToken);
        services.Pairing = new DevicePairing(services.Devices, log, options.Time);
        services.Grants = await Services.ServiceGrants.OpenAsync(log, services.Devices, cancellationToken);
        services.Contracts = await Services.ServiceContracts.OpenAsync(log, StoreContracts.Catalog, cancellationToken);
        services.Publisher = new Services.ServicePublisher(log, () => services.Contracts.Current, options.StoreId);
        services.Subscriptions = new Services.Subscriptions(log, options.ServiceCatchUpPerSecond, options.Time);
        services.Limiter = new FailureLimiter(options.Time);
        services.Terminal = new Outpost.Retail.Checkout.WatchedPaymentTerminal(options.PaymentTerminal);
        services.Retail = await RetailContexts.OpenAsync(log, store, options.Retail, services.Terminal, options.Time, cancellationToken, loggers);
        live.Restore(); // a release's settings applied live before this process restarted
        services.Retail.Start();
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (services.Retail is { } retail)
        {
            await retail.DisposeAsync();
        }

        services.Contracts?.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.ForwardInterval, options.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await services.Retail.Checkout.ForwardOfflineApprovalsAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogForwardFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding offline card approvals failed; the next run tries again")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception);
}
