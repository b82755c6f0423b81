using System.CommandLine;
using Microsoft.Extensions.Logging;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Commands;

/// <summary>The console-logging flags a server command takes (<c>outpost store</c>, <c>outpost central</c>).</summary>
internal sealed class LogFlags
{
    /// <summary>Creates the flags; <paramref name="environment"/> prefixes the variables that set them too (OUTPOST_LOG_FORMAT…).</summary>
    public LogFlags(string environment)
    {
        _prefix = environment;
        Format = new Option<string?>("--log-format") { Description = $"Console logs as text (default) or json: one object a line with the store, the node and the trace id (also {environment}FORMAT)." };
        Level = new Option<LogLevel?>("--log-level") { Description = $"The lowest level logged: Trace, Debug, Information, Warning (default), Error, Critical (also {environment}LEVEL)." };
    }

    public Option<string?> Format { get; }

    public Option<LogLevel?> Level { get; }

    /// <summary>The environment variables' prefix (OUTPOST_LOG_, OUTPOST_STORE_LOG_).</summary>
    private readonly string _prefix;

    public IEnumerable<Option> All => [Format, Level];

    /// <summary>
    /// Applies the flags, then the environment, over <paramref name="settings"/>; false (after one line naming the
    /// setting) when a value is not one the node knows.
    /// </summary>
    public bool Apply(ParseResult result, ConsoleLogSettings settings, TextWriter output)
    {
        settings.Format = result.GetValue(Format) ?? Environment.GetEnvironmentVariable(_prefix + "FORMAT") ?? settings.Format;
        if (result.GetValue(Level) is { } level)
        {
            settings.Level = level;
        }
        else if (Environment.GetEnvironmentVariable(_prefix + "LEVEL") is { Length: > 0 } text)
        {
            if (!Enum.TryParse<LogLevel>(text, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                output.WriteLine($"The log level '{text}' ({_prefix}LEVEL) is not one of Trace, Debug, Information, Warning, Error, Critical, None.");
                return false;
            }

            settings.Level = parsed;
        }

        if (settings.Problem() is { } problem)
        {
            output.WriteLine($"The console's log settings cannot work: {problem} (--log-format, {_prefix}FORMAT).");
            return false;
        }

        return true;
    }
}
