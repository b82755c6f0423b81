using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Outpost.Sync.Hosting;

/// <summary>How a node logs to its console (<c>Log:Format</c>, <c>Log:Level</c>; <c>--log-format</c>, <c>--log-level</c>).</summary>
public sealed class ConsoleLogSettings
{
    /// <summary>The names <see cref="Format"/> takes.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["text", "json"];

    /// <summary><c>text</c> (one readable entry, for a person at a terminal) or <c>json</c> (one JSON object a line, for a container platform's log collector).</summary>
    public string Format { get; set; } = "text";

    /// <summary>The lowest level written (Warning by default: a store server's console is quiet while all is well).</summary>
    public LogLevel Level { get; set; } = LogLevel.Warning;

    /// <summary>What is wrong with these settings, or null.</summary>
    public string? Problem() => Formats.Contains(Format) ? null : $"the log format '{Format}' is not one of {string.Join(", ", Formats)}";
}

/// <summary>Sets a node's console logging up from its <see cref="ConsoleLogSettings"/>.</summary>
public static class ConsoleLog
{
    /// <summary>The JSON formatter's name.</summary>
    public const string JsonFormatter = "outpost-json";

    /// <summary>
    /// The level and the format; in JSON each entry carries the node (<paramref name="node"/>, the machine or pod), the
    /// store (<paramref name="store"/>, null at HQ) and the trace it was written in (W3C trace and span ids).
    /// </summary>
    public static void Apply(ILoggingBuilder logging, ConsoleLogSettings settings, string? store, string node)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(settings);
        logging.SetMinimumLevel(settings.Level);
        if (settings.Format != "json")
        {
            return;
        }

        logging.ClearProviders();
        logging.AddConsole(console => console.FormatterName = JsonFormatter);
        logging.AddConsoleFormatter<JsonLineFormatter, JsonLineOptions>(json => (json.Store, json.Node) = (store, node));
    }
}

/// <summary>Options of <see cref="JsonLineFormatter"/>: who writes.</summary>
public sealed class JsonLineOptions : ConsoleFormatterOptions
{
    /// <summary>The store's id (null at HQ).</summary>
    public string? Store { get; set; }

    /// <summary>The node: machine or pod name.</summary>
    public string Node { get; set; } = Environment.MachineName;
}

/// <summary>
/// One JSON object a line: <c>time</c> (UTC, ISO 8601), <c>level</c>, <c>category</c>, <c>eventId</c>, <c>message</c>,
/// <c>store</c>, <c>node</c>, <c>traceId</c> and <c>spanId</c> (of <see cref="Activity.Current"/>, when the entry is
/// written inside a request or another traced operation), and <c>exception</c> when there is one.
/// </summary>
public sealed class JsonLineFormatter : ConsoleFormatter, IDisposable
{
    /// <summary>Quotes and pluses as they are: a log line is read by people and collectors, never put in a page.</summary>
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IDisposable? _reload;
    private JsonLineOptions _options;

    /// <summary>Creates it with its options (changes apply as they come).</summary>
    public JsonLineFormatter(IOptionsMonitor<JsonLineOptions> options)
        : base(ConsoleLog.JsonFormatter)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.CurrentValue;
        _reload = options.OnChange(o => _options = o);
    }

    /// <inheritdoc />
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Relaxed))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("level", logEntry.LogLevel.ToString());
            json.WriteString("category", logEntry.Category);
            json.WriteNumber("eventId", logEntry.EventId.Id);
            json.WriteString("message", message);
            if (_options.Store is { } store)
            {
                json.WriteString("store", store);
            }

            json.WriteString("node", _options.Node);
            if (Activity.Current is { } activity)
            {
                json.WriteString("traceId", activity.TraceId.ToHexString());
                json.WriteString("spanId", activity.SpanId.ToHexString());
            }

            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", exception.ToString());
            }

            json.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
    }

    /// <inheritdoc />
    public void Dispose() => _reload?.Dispose();
}
