using Microsoft.Extensions.Options;
using Outpost.Core.Log;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;
using Outpost.Sync.Protocol;

namespace Outpost.Store;

/// <summary>
/// Builds a store server: its event log (the store's broker), the replication agent that keeps it in step
/// with HQ whenever the link is up, and the endpoints devices and the back office use.
/// </summary>
public static class StoreHost
{
    /// <summary>Builds (does not start) a store server.</summary>
    public static WebApplication Build(StoreOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Sync.StoreId = options.StoreId;
        var builder = NodeHost.CreateBuilder(options.Urls, SyncJsonContext.Default, new LogOptions
        {
            Path = Path.Combine(options.DataDirectory, "store.db"),
            NodeId = options.StoreId,
            Topics = options.Topics,
            Durability = options.Durability,
            Time = options.Time,
        }, options.RetentionInterval);
        builder.Services.AddSingleton(new ConnectivityMonitor(options.Time));
        if (options.Sync.Central is not null)
        {
            builder.Services.AddSingleton(Options.Create(options.Sync));
            builder.Services.AddSingleton(new SyncClient(options.Sync));
            builder.Services.AddHostedService<ReplicationAgent>();
        }

        var app = NodeHost.Build(builder, configure);
        app.MapGet("/api/connectivity", (ConnectivityMonitor monitor) => TypedResults.Ok(monitor.Current));
        return app;
    }
}
