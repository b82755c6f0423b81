using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Outpost.Core.Diagnostics;
using Outpost.Core.Log;
using Outpost.Store.Api;
using Outpost.Store.Devices;
using Outpost.Store.Feed;
using Outpost.Sync.Agent;
using Outpost.Sync.Hosting;
using Outpost.Sync.Protocol;

namespace Outpost.Store;

/// <summary>
/// Builds a store server: its event log (the store's broker), the retail contexts and their read models, the
/// replication agent that keeps it in step with HQ whenever the link is up, the device endpoints (per context,
/// by role), the live feed, the device pages, health, metrics and an OpenAPI document.
/// </summary>
public static class StoreHost
{
    /// <summary>The request-duration histogram's bucket bounds, in seconds.</summary>
    internal static readonly double[] RequestDurationBuckets =
        [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Builds (does not start) a store server.</summary>
    public static WebApplication Build(StoreOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Sync.StoreId = options.StoreId;
        var builder = NodeHost.CreateBuilder(options.Urls, SyncJsonContext.Default, new LogOptions
        {
            Path = options.LogPath,
            NodeId = options.StoreId,
            Topics = options.Topics,
            Durability = options.Durability,
            Time = options.Time,
        }, options.RetentionInterval);
        ConsoleLog.Apply(builder.Logging, options.Log, options.StoreId, Environment.MachineName);

        // Warnings and errors also go up to HQ as telemetry, from their own level whatever the console's.
        var shipper = new LogShipper(options.LogsUp, options.Time);
        builder.Logging.AddProvider(shipper);
        builder.Logging.AddFilter<LogShipper>(null, options.LogsUp.Level);
        builder.Services.AddSingleton(shipper);
        builder.Services.AddHostedService<LogShipperPump>();
        var services = builder.Services;
        services.Configure<JsonOptions>(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, StoreJsonContext.Default));
        services.Configure<RouteHandlerOptions>(route => route.ThrowOnBadRequest = true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        services.AddSingleton(options);
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        services.AddSingleton(new ConnectivityMonitor(options.Time));
        services.AddSingleton(new ProcessStart(options.Time.GetUtcNow()));
        services.AddSingleton<StoreServices>();
        services.AddSingleton<IStorageHealth>(provider => provider.GetRequiredService<StoreServices>());
        services.AddSingleton<LiveSettings>();
        services.AddHostedService<StoreStartup>();
        services.AddHostedService<PriceSchedule>();
        services.AddSingleton<RequestTimings>();
        services.AddSingleton<StoreHealthReporter>();
        services.AddHostedService(provider => provider.GetRequiredService<StoreHealthReporter>());
        Equipment.MqttBridge.Validate(options.Mqtt);
        services.AddSingleton(provider => new Equipment.MqttBridge(options.Mqtt, provider.GetRequiredService<IEventLog>(), options.StoreId, options.Time,
            provider.GetRequiredService<ILogger<Equipment.MqttBridge>>()));
        services.AddHostedService(provider => provider.GetRequiredService<Equipment.MqttBridge>());
        services.AddSingleton<StoreFeed>();
        services.AddHostedService(provider => provider.GetRequiredService<StoreFeed>());
        services.AddAuthentication(DeviceAuthenticationHandler.SchemeName)
            .AddScheme<DeviceAuthenticationOptions, DeviceAuthenticationHandler>(DeviceAuthenticationHandler.SchemeName, auth => auth.AdminToken = options.AdminToken);
        services.AddAuthorization();
        services.AddDeviceRateLimits(options.RateLimits);
        services.AddStoreOpenApi();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(CoreMetrics.MeterName, Equipment.MqttBridge.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")

            // A store's requests take milliseconds: buckets fine enough to read a 5 ms p99 off the histogram
            // (ASP.NET Core's default buckets start at 5 ms).
            .AddView("http.server.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = RequestDurationBuckets })
            .AddPrometheusExporter());
        if (options.Sync.Central is not null)
        {
            services.AddSingleton(Options.Create(options.Sync));
            services.AddSingleton(provider => new SyncClient(options.Sync, provider.GetRequiredService<ConnectivityMonitor>())
            {
                // A full disk goes to HQ's fleet view with every request, whether the link is up or not.
                LocalProblem = () => provider.GetRequiredService<IStorageHealth>().Problem,
            });
            services.AddHostedService<ReplicationAgent>();
        }

        var app = NodeHost.Build(builder, configure, "outpost-store", options.StoreId);
        app.UseExceptionHandler(BadRequests.Handler(WriteErrorAsync));
        var timings = app.Services.GetRequiredService<RequestTimings>();
        app.Use(timings.MiddlewareAsync);
        var pages = new Microsoft.Extensions.FileProviders.EmbeddedFileProvider(typeof(StoreHost).Assembly, "wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = pages });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = pages });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapStoreApi();
        app.MapDeployApi();
        app.MapStoreFeed();
        var started = app.Services.GetRequiredService<StoreServices>();
        app.MapContracts(() => started.Contracts?.Current ?? StoreContracts.Catalog);
        return app;
    }

    /// <summary>Malformed JSON, a body too large, a wrong content type: a 4xx that says what is wrong; a full disk: 507, nothing recorded.</summary>
    private static async Task WriteErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, title, detail) = error switch
        {
            _ when BadRequests.Describe(error, "The request body is larger than the store server accepts from a device.") is { } bad => bad,
            { } full when LogFullException.Is(full) => (StatusCodes.Status507InsufficientStorage, "Store's disk is full",
                "The store server's disk is full: nothing of this was recorded. Try again in a moment; it resumes by itself once there is room, and the store's health and HQ's fleet view say so meanwhile."),
            _ => (StatusCodes.Status500InternalServerError, "Store server error", "The store server could not do this; it is logged. Try again."),
        };
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status507InsufficientStorage)
        {
            context.Response.Headers.RetryAfter = "30";
        }

        await context.Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail },
            StoreJsonContext.Default.ProblemDetails, "application/problem+json");
    }
}
