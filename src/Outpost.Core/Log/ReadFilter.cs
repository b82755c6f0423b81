using Outpost.Core.Events;

namespace Outpost.Core.Log;

/// <summary>Which events a read returns: a set of topics and a set of scopes; null means all.</summary>
public sealed record ReadFilter
{
    /// <summary>Every event.</summary>
    public static ReadFilter All { get; } = new();

    /// <summary>The topics to return, or null for every topic.</summary>
    public IReadOnlyList<string>? Topics { get; init; }

    /// <summary>The scopes to return, or null for every scope.</summary>
    public IReadOnlyList<Scope>? Scopes { get; init; }

    /// <summary>
    /// The event types to return (every version of each), or null for every type. A read model that reads a few types
    /// of a busy topic (HQ's sales totals among millions of sales events) lets the database skip the rest instead of
    /// reading, checking and handing over each one.
    /// </summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>A filter on topics.</summary>
    public static ReadFilter ForTopics(params string[] topics) => new() { Topics = topics };

    /// <summary>Whether an event passes the filter (the same rule the log applies in its query).</summary>
    public bool Matches(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return (Topics is null || Topics.Contains(e.Topic)) && (Scopes is null || Scopes.Contains(e.Scope)) && (Types is null || Types.Contains(e.Type));
    }
}
