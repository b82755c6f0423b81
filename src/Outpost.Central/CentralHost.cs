using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Outpost.Central.Admin;
using Outpost.Central.Fleet;
using Outpost.Central.Ingest;
using Outpost.Central.Rollouts;
using Outpost.Central.Security;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Core.Postgres;
using Outpost.Sync.Hosting;
using Outpost.Sync.Hq;
using Outpost.Sync.Security;

namespace Outpost.Central;

/// <summary>
/// Builds an HQ node: its event log, the store registry, the sync endpoints stores connect to, the admin
/// API and health. SQLite by default; on PostgreSQL (<see cref="CentralOptions.Postgres"/>) nodes are stateless
/// and any number of them can serve the same fleet.
/// </summary>
public static class CentralHost
{
    /// <summary>Builds (does not start) an HQ node.</summary>
    public static WebApplication Build(CentralOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = new LogOptions
        {
            Path = Path.Combine(options.DataDirectory, "hq.db"),
            NodeId = options.NodeId,
            Topics = options.Topics,
            Durability = options.Durability,
            Time = options.Time,

            // HQ commits what many stores send at once: bigger groups, fewer commits.
            MaxEventsPerCommit = 16_384,
        };
        Func<IServiceProvider, IEventLog>? openLog = options.Postgres is { } postgres
            ? services => PostgresEventLog.OpenAsync(postgres, log, services.GetService<ILogger<PostgresEventLog>>()).GetAwaiter().GetResult()
            : null;
        var builder = NodeHost.CreateBuilder(options.Urls, System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(AdminJsonContext.Default, MasterData.MasterDataJsonContext.Default),
            log, options.RetentionInterval, openLog);
        ConsoleLog.Apply(builder.Logging, options.Log, store: null, Environment.MachineName);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        var tls = options.Tls;
        if (tls.Problem() is { } tlsProblem)
        {
            throw new TlsSetupException($"HQ's TLS settings cannot work: {tlsProblem}.");
        }

        var certificate = tls.Enabled ? new PemCertificate(tls.Certificate!, tls.Key!, options.Time) : null;
        var storeCertificates = tls.ClientCa is { } clientCa ? new StoreCertificates(clientCa, tls.ClientCrl, tls.RequireClientCertificate, options.Time) : null;
        if (certificate is not null)
        {
            TlsServer.Listen(builder.WebHost, options.Urls, certificate, requestClientCertificates: storeCertificates is not null);
        }

        if (storeCertificates is not null)
        {
            builder.Services.AddSingleton(storeCertificates);
        }

        builder.Services.AddSingleton(new HqTlsState(certificate, storeCertificates, options.Time));
        builder.Services.AddSingleton<StoreDirectory>();
        builder.Services.AddSingleton(options.Contracts);
        builder.Services.Configure<RouteHandlerOptions>(route => route.ThrowOnBadRequest = true);
        builder.Services.AddSingleton(services => new DownFeed(services.GetRequiredService<IEventLog>()));
        builder.Services.AddSingleton<SyncAdmission>();
        builder.Services.AddSingleton<HqReadModels>();
        builder.Services.AddSingleton<ReadModelHost>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ReadModelHost>());
        builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<StockSummaryPublisher>(services, options.StockSummaryInterval));
        builder.Services.AddHostedService(services => services.GetRequiredService<StockSummaryPublisher>());
        builder.Services.AddSingleton<IStoreDirectory>(services => services.GetRequiredService<StoreDirectory>());
        builder.Services.AddSingleton<FleetHealth>();
        builder.Services.AddSingleton<ISyncObserver>(services => services.GetRequiredService<FleetHealth>());
        builder.Services.AddHostedService(services => services.GetRequiredService<FleetHealth>());
        builder.Services.AddSingleton(Options.Create(options.Alerts.Checked()));
        builder.Services.AddSingleton<AlertService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AlertService>());
        var fleetScope = new FleetMetrics.Scope();
        builder.Services.AddSingleton(fleetScope);
        builder.Services.AddSingleton<FleetMetrics>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FleetMetrics>());
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(Outpost.Core.Diagnostics.CoreMetrics.MeterName, Outpost.Sync.Hq.SyncMetrics.MeterName, FleetMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
            // This HQ's fleet only, a series per store (the SDK's default of 2,000 a metric would fold a large fleet into one overflow series).
            .AddView(instrument => FleetMetrics.Only(instrument, fleetScope))
            .AddPrometheusExporter());
        builder.Services.AddSingleton(Options.Create(options.Sync));
        builder.Services.AddSyncRateLimits(options.Sync);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<RolloutConductor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RolloutConductor>());
        builder.Services.AddSingleton(_ => new Outpost.Sync.Rollouts.RegistryClient(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, options.InsecureRegistries));
        var app = NodeHost.Build(builder, configure, "outpost-hq", $"{options.NodeId}/{Environment.MachineName}");
        app.UseExceptionHandler(BadRequests.Handler(DatabaseOutage.WriteErrorAsync));
        app.UseRateLimiter();
        app.MapSyncEndpoints();
        var pages = new Microsoft.Extensions.FileProviders.EmbeddedFileProvider(typeof(CentralHost).Assembly, "wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = pages, DefaultFileNames = ["fleet.html"] });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = pages });
        app.MapPrometheusScrapingEndpoint("/metrics");
        var tokens = new Dictionary<string, string>(options.AdminTokens, StringComparer.Ordinal);
        if (options.AdminToken is { } single)
        {
            tokens.TryAdd("admin", single);
        }

        app.MapContracts(options.Contracts);
        app.MapGroup("/admin").MapAdminApi(tokens).MapReleases(options.ReleaseAdmins).MapRollouts(options.ReleaseAdmins);
        return app;
    }
}
