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
    /// <summary>How many connections may wait to be accepted (the kernel lowers it to its <c>net.core.somaxconn</c>).</summary>
    public const int ListenBacklog = 8192;

    /// <summary>A builder listening on <paramref name="urls"/>, with the node's log (and its retention) registered; <paramref name="openLog"/> replaces the SQLite log.</summary>
    public static WebApplicationBuilder CreateBuilder(string urls, IJsonTypeInfoResolver json, LogOptions log, TimeSpan retentionInterval, Func<IServiceProvider, IEventLog>? openLog = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        var data = Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(log.Path))!);
        KeepPrivate(data.FullName);
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
        // Connections not yet accepted wait in the listen queue (Kestrel's default: 512, the kernel caps it at
        // net.core.somaxconn). When thousands of stores reconnect at once (HQ restarted, a region's link back), a short
        // queue refuses most of them and each retries after its back-off: 92,307 retries for 20,000 stores in one run.
        builder.WebHost.UseSockets(sockets => sockets.Backlog = ListenBacklog);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<JsonOptions>(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, json));
        builder.Services.AddEventLog(log, retentionInterval, openLog);
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>
    /// Makes a node's data folder readable by its own user only (0700): it holds the log (sales, customers' loyalty
    /// events), hashes of credentials, and release settings. Whatever mode SQLite gives the files inside, no other user
    /// can reach them. A folder the process does not own (a volume mounted by the platform) is left as it is.
    /// </summary>
    public static void KeepPrivate(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
        }
    }

    /// <summary>
    /// Applies the caller's last changes, turns tracing on when the <c>OTEL_*</c> settings ask (<see cref="NodeTracing"/>;
    /// <paramref name="service"/> and <paramref name="instance"/> name the node), builds, and maps what every node serves
    /// (security headers, status pages, health).
    /// </summary>
    public static WebApplication Build(WebApplicationBuilder builder, Action<WebApplicationBuilder>? configure, string service, string instance)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure?.Invoke(builder);
        NodeTracing.Add(builder, service, instance);
        var app = builder.Build();
        app.UseSecurityHeaders();
        app.UseStatusCodePages();
        app.MapLogHealth();
        return app;
    }
}
