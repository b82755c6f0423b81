using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Outpost.Core.Log;

namespace Outpost.Sync.Hosting;

/// <summary>What every node's web host shares, HQ and store alike: Kestrel, JSON, the log, problem details and health.</summary>
public static class NodeHost
{
    /// <summary>A builder listening on <paramref name="urls"/>, with the node's log (and its retention) registered; <paramref name="openLog"/> replaces the SQLite log.</summary>
    public static WebApplicationBuilder CreateBuilder(string urls, IJsonTypeInfoResolver json, LogOptions log, TimeSpan retentionInterval, Func<IServiceProvider, IEventLog>? openLog = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(log.Path))!);
        // Settings come from the command (appsettings.json, OUTPOST_* variables, flags), never from the host's own
        // appsettings watch: that watch covers the working folder and everything under it, data folder included,
        // so every log write woke a file-watcher thread (5% of the CPU during a catch-up) and a large working folder
        // slowed start-up.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<JsonOptions>(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, json));
        builder.Services.AddEventLog(log, retentionInterval, openLog);
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>Applies the caller's last changes, builds, and maps what every node serves (security headers, status pages, health).</summary>
    public static WebApplication Build(WebApplicationBuilder builder, Action<WebApplicationBuilder>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseSecurityHeaders();
        app.UseStatusCodePages();
        app.MapLogHealth();
        return app;
    }
}
