using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Sync.Hosting;

/// <summary>What every node's host registers: its event log (SQLite unless told otherwise), the clock, and the log's retention service.</summary>
public static class EventLogHosting
{
    /// <summary>
    /// Registers the node's log (opened on first use: the SQLite file of <paramref name="options"/>, or what
    /// <paramref name="open"/> opens), the clock, and retention every <paramref name="retentionInterval"/>.
    /// </summary>
    public static IServiceCollection AddEventLog(this IServiceCollection services, LogOptions options, TimeSpan retentionInterval, Func<IServiceProvider, IEventLog>? open = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options.Time);
        services.AddSingleton(open ?? (provider => SqliteEventLog.Open(options, provider.GetService<ILogger<SqliteEventLog>>())));
        services.AddHostedService(provider => new RetentionService(provider.GetRequiredService<IEventLog>(), options.Time,
            provider.GetRequiredService<ILogger<RetentionService>>(), retentionInterval));
        return services;
    }
}
