using Outpost.Core.Log;
using Outpost.Retail.Alarms;

namespace Outpost.Central.Fleet;

/// <summary>An alarm open at a store.</summary>
/// <param name="Store">The store.</param>
/// <param name="Source">Who raised it (a service at the store).</param>
/// <param name="Subject">What it is about.</param>
/// <param name="Severity">How bad.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Since">When the condition began.</param>
public sealed record StoreAlarm(string Store, string Source, string Subject, string Severity, string Message, DateTimeOffset Since);

/// <summary>
/// The alarms services raised at the stores and have not cleared, as their events reached HQ. It reads the topic
/// <c>alarms</c> through on each call: alarms are few (a raise and a clear per incident), so this is fine for thousands
/// of them; a read model is the next step past that.
/// </summary>
public static class FleetAlarms
{
    /// <summary>The open alarms of every store, oldest first.</summary>
    public static async Task<IReadOnlyList<StoreAlarm>> OpenAsync(IEventLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var events = await log.ReadAllAsync(ReadFilter.ForTopics(AlarmEvents.Topic), cancellationToken: cancellationToken);
        return [.. events.GroupBy(e => e.Origin.Node.Value, StringComparer.Ordinal)
            .SelectMany(store => AlarmEvents.Open(store)
                .Select(a => new StoreAlarm(store.Key, a.Source, a.Subject, a.Severity, a.Message, a.Since)))
            .OrderBy(a => a.Since)];
    }
}
