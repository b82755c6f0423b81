using Microsoft.Extensions.Options;
using Outpost.Central.Admin;
using Outpost.Central.Fleet;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Core.Postgres;
using Outpost.Sync.Hosting;
using Outpost.Sync.Hq;

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
        };
        Func<IServiceProvider, IEventLog>? openLog = options.Postgres is { } postgres
            ? services => PostgresEventLog.OpenAsync(postgres, log, services.GetService<ILogger<PostgresEventLog>>()).GetAwaiter().GetResult()
            : null;
        var builder = NodeHost.CreateBuilder(options.Urls, AdminJsonContext.Default, log, options.RetentionInterval, openLog);
        builder.Services.AddSingleton<StoreDirectory>();
        builder.Services.AddSingleton<IStoreDirectory>(services => services.GetRequiredService<StoreDirectory>());
        builder.Services.AddSingleton<FleetTracker>();
        builder.Services.AddSingleton<ISyncObserver>(services => services.GetRequiredService<FleetTracker>());
        builder.Services.AddSingleton(Options.Create(options.Sync));
        var app = NodeHost.Build(builder, configure);
        app.MapSyncEndpoints();
        app.MapGroup("/admin").MapAdminApi(options.AdminToken);
        return app;
    }
}
