using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace Outpost.Core.Contracts;

/// <summary>
/// The event contracts a node knows: which event types, at which versions, may be published on which topic, and the
/// schema each payload must match. External publishers (HQ's <c>POST /admin/events</c>) are checked against it; what
/// the node's own code writes is correct by construction (it serializes the records the contracts come from).
/// </summary>
public sealed class ContractCatalog
{
    private readonly FrozenDictionary<(string Topic, string Type, int Version), EventContract> _contracts;

    /// <summary>Creates a catalog; a (topic, type, version) may be declared once.</summary>
    public ContractCatalog(IEnumerable<EventContract> contracts)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        var map = new Dictionary<(string, string, int), EventContract>();
        foreach (var contract in contracts)
        {
            if (!map.TryAdd((contract.Topic, contract.Type, contract.Version), contract))
            {
                throw new ArgumentException($"{contract} is declared twice.", nameof(contracts));
            }
        }

        _contracts = map.ToFrozenDictionary();
        All = [.. map.Values.OrderBy(c => c.Topic, StringComparer.Ordinal).ThenBy(c => c.Type, StringComparer.Ordinal).ThenBy(c => c.Version)];
    }

    /// <summary>A catalog that knows no contract: every published event is refused.</summary>
    public static ContractCatalog Empty { get; } = new([]);

    /// <summary>Every contract, by topic, type and version.</summary>
    public IReadOnlyList<EventContract> All { get; }

    /// <summary>This catalog and <paramref name="more"/> (a service's types, a test's).</summary>
    public ContractCatalog With(IEnumerable<EventContract> more) => new(All.Concat(more));

    /// <summary>The contract of a type at a version on a topic, or null.</summary>
    public EventContract? Find(string topic, string type, int version) =>
        _contracts.TryGetValue((topic, type, version), out var contract) ? contract : null;

    /// <summary>
    /// What is wrong with an event a publisher sent; empty when it matches its contract. An unknown type or version is
    /// named with what the topic does have, so the publisher can see what it meant.
    /// </summary>
    public IReadOnlyList<ContractViolation> Check(string topic, string type, int version, JsonElement payload)
    {
        if (Find(topic, type, version) is { } contract)
        {
            return contract.Check(payload);
        }

        var onTopic = All.Where(c => c.Topic == topic).ToList();
        if (onTopic.Count == 0)
        {
            return [new ContractViolation("topic", $"No event type is published on topic '{topic}'.")];
        }

        var versions = onTopic.Where(c => c.Type == type).Select(c => c.Version.ToString(CultureInfo.InvariantCulture)).ToList();
        return versions.Count > 0
            ? [new ContractViolation("version", $"{type} has no version {version.ToString(CultureInfo.InvariantCulture)}; it has {string.Join(", ", versions)}.")]
            : [new ContractViolation("type", $"'{type}' is not an event type of topic '{topic}'; its types are {string.Join(", ", onTopic.Select(c => c.Type).Distinct())}.")];
    }
}
