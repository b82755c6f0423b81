using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Core.Events;

namespace Outpost.Retail.Alarms;

/// <summary>
/// Alarms any service at the store may raise and clear (a fridge too warm for too long, a fryer's oil too old): the
/// back office shows the open ones, and they go up to HQ, which shows them on its fleet page. An alarm is one
/// <c>(source, subject)</c>, the event's key: raised, then cleared.
/// </summary>
public static class AlarmEvents
{
    /// <summary>The topic.</summary>
    public const string Topic = "alarms";

    /// <summary>An alarm starts (<see cref="AlarmRaisedV1"/>).</summary>
    public const string AlarmRaised = "AlarmRaised";

    /// <summary>An alarm ends (<see cref="AlarmClearedV1"/>).</summary>
    public const string AlarmCleared = "AlarmCleared";

    /// <summary>The key of an alarm's events.</summary>
    public static string Key(string source, string subject) => source + ":" + subject;

    /// <summary>The alarms open after the given events of the topic, in order: per key, raised and not cleared since.</summary>
    public static IReadOnlyList<OpenAlarm> Open(IEnumerable<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var open = new Dictionary<string, OpenAlarm>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Type == AlarmRaised && e.Deserialize(AlarmJsonContext.Default.AlarmRaisedV1) is { } raised)
            {
                open[e.Key] = new OpenAlarm(raised.Source, raised.Subject, raised.Severity, raised.Message, raised.Since, e.Seq);
            }
            else if (e.Type == AlarmCleared)
            {
                open.Remove(e.Key);
            }
        }

        return [.. open.Values.OrderBy(a => a.Since)];
    }
}

/// <summary>Version 1 of an alarm that starts.</summary>
/// <param name="Source">Who raises it (a service's name, such as <c>food-safety</c>).</param>
/// <param name="Subject">What it is about (a fridge, a fryer).</param>
/// <param name="Severity"><c>critical</c>, <c>warning</c> or <c>info</c>.</param>
/// <param name="Message">What is wrong, in words, for the back office and HQ.</param>
/// <param name="Since">When the condition began.</param>
public sealed record AlarmRaisedV1(string Source, string Subject, string Severity, string Message, DateTimeOffset Since);

/// <summary>Version 1 of an alarm that ends.</summary>
/// <param name="Source">Who raised it.</param>
/// <param name="Subject">What it was about.</param>
/// <param name="Message">How it ended, in words.</param>
/// <param name="At">When the condition ended.</param>
public sealed record AlarmClearedV1(string Source, string Subject, string Message, DateTimeOffset At);

/// <summary>An alarm raised and not cleared.</summary>
/// <param name="Source">Who raised it.</param>
/// <param name="Subject">What it is about.</param>
/// <param name="Severity">How bad.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Since">When the condition began.</param>
/// <param name="Position">Where it was raised in the log.</param>
public sealed record OpenAlarm(string Source, string Subject, string Severity, string Message, DateTimeOffset Since, long Position);

/// <summary>Source-generated JSON for the alarm events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AlarmRaisedV1))]
[JsonSerializable(typeof(AlarmClearedV1))]
[JsonSerializable(typeof(IReadOnlyList<OpenAlarm>))]
public sealed partial class AlarmJsonContext : JsonSerializerContext;
