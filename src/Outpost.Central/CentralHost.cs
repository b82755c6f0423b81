using Microsoft.Extensions.Options;
using Outpost.Central.Admin;
using Outpost.Central.Fleet;
using Outpost.Central.Stores;
using Outpost.Core.Log;
using Outpost.Sync.Hosting;
using Outpost.Sync.Hq;

namespace Outpost.Central;

/// <summary>
/// Builds an HQ node: its event log, the store registry, the sync endpoints stores connect to, the admin
/// API and health. SQLite by default; the log sits behind <see cref="IEventLog"/> so a PostgreSQL one can
/// take its place.
/// </summary>
public static class CentralHost
{
    /// <summary>Builds (does not start) an HQ node.</summary>
    public static WebApplication Build(CentralOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = NodeHost.CreateBuilder(options.Urls, AdminJsonContext.Default, new LogOptions
        {
            Path = Path.Combine(options.DataDirectory, "hq.db"),
            NodeId = options.NodeId,
            Topics = options.Topics,
            Durability = options.Durability,
            Time = options.Time,
        }, options.RetentionInterval);
        builder.Services.AddSingleton(new SqliteStoreDirectory(Path.Combine(options.DataDirectory, "stores.db"), options.Time));
        builder.Services.AddSingleton<IStoreDirectory>(services => services.GetRequiredService<SqliteStoreDirectory>());
        builder.Services.AddSingleton<FleetTracker>();
        builder.Services.AddSingleton<ISyncObserver>(services => services.GetRequiredService<FleetTracker>());
        builder.Services.AddSingleton(Options.Create(options.Sync));
        var app = NodeHost.Build(builder, configure);
        app.MapSyncEndpoints();
        app.MapGroup("/admin").MapAdminApi(options.AdminToken);
        return app;
    }
}
