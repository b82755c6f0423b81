using System.Collections.Frozen;

namespace Outpost.Core.Topics;

/// <summary>
/// The declared topic policies of a node. A topic nobody declared gets <see cref="TopicPolicy.Default"/>:
/// events of unknown topics (from a newer software version, say) are kept, never refused.
/// </summary>
public sealed class TopicCatalog
{
    private readonly FrozenDictionary<string, TopicPolicy> _policies;

    /// <summary>Creates a catalog; a topic may be declared once.</summary>
    public TopicCatalog(IEnumerable<TopicPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var map = new Dictionary<string, TopicPolicy>(StringComparer.Ordinal);
        foreach (var policy in policies)
        {
            if (!map.TryAdd(policy.Topic, policy))
            {
                throw new ArgumentException($"Topic '{policy.Topic}' is declared twice.", nameof(policies));
            }
        }

        _policies = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>A catalog with no declared topics.</summary>
    public static TopicCatalog Empty { get; } = new([]);

    /// <summary>The declared policies.</summary>
    public IEnumerable<TopicPolicy> Declared => _policies.Values;

    /// <summary>Whether a policy names the topic.</summary>
    public bool IsDeclared(string topic) => _policies.ContainsKey(topic);

    /// <summary>The policy of a topic, or the default one.</summary>
    public TopicPolicy this[string topic] => _policies.TryGetValue(topic, out var p) ? p : TopicPolicy.Default(topic);

    /// <summary>The declared topics that travel in a direction, highest priority first.</summary>
    public IReadOnlyList<TopicPolicy> InDirection(TopicDirection direction) =>
        [.. _policies.Values.Where(p => p.Direction == direction).OrderBy(p => p.Priority).ThenBy(p => p.Topic, StringComparer.Ordinal)];
}
