using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Cli.Simulation;

/// <summary>
/// What HQ holds, read once for a check over many stores: how many events of each up topic it holds for each store
/// scope, and the latest event of each key of each down topic in each scope. Asking HQ's log store by store (a count
/// filtered by scope, a scan of each down topic) costs a scan of HQ's log per store: at 2,000 stores that took
/// minutes, where one pass takes seconds.
/// </summary>
internal sealed class HqSnapshot
{
    private readonly Dictionary<(Scope Scope, string Topic), long> _up = [];
    private readonly Dictionary<(Scope Scope, string Topic), Dictionary<string, (long Seq, EventOrigin Origin)>> _down = [];

    public static async Task<HqSnapshot> ReadAsync(IEventLog hqLog, IReadOnlyList<string> upTopics, IReadOnlyList<string> downTopics, CancellationToken cancellationToken)
    {
        var snapshot = new HqSnapshot();
        await foreach (var e in hqLog.EnumerateAsync(new ReadFilter { Topics = [.. upTopics, .. downTopics] }, pageSize: 5000, cancellationToken: cancellationToken))
        {
            if (upTopics.Contains(e.Topic))
            {
                if (SimulationChecker.Counted(e.Topic, e.Type))
                {
                    snapshot._up[(e.Scope, e.Topic)] = snapshot._up.GetValueOrDefault((e.Scope, e.Topic)) + 1;
                }
            }
            else
            {
                if (!snapshot._down.TryGetValue((e.Scope, e.Topic), out var keys))
                {
                    snapshot._down[(e.Scope, e.Topic)] = keys = new Dictionary<string, (long, EventOrigin)>(StringComparer.Ordinal);
                }

                keys[e.Key] = (e.Seq, e.Origin with { Timestamp = default });
            }
        }

        return snapshot;
    }

    /// <summary>Events of an up topic HQ holds in a store's scope.</summary>
    public long UpCount(string storeId, string topic) => _up.GetValueOrDefault((Scope.Store(storeId), topic));

    /// <summary>Each key's latest event of a down topic over the scopes a store is in (the whole fleet, its region, itself), by HQ's log order.</summary>
    public Dictionary<string, EventOrigin> Latest(string topic, string region, string storeId)
    {
        var latest = new Dictionary<string, (long Seq, EventOrigin Origin)>(StringComparer.Ordinal);
        foreach (var scope in new[] { Scope.All, Scope.Region(region), Scope.Store(storeId) })
        {
            foreach (var (key, value) in _down.GetValueOrDefault((scope, topic)) ?? [])
            {
                if (!latest.TryGetValue(key, out var seen) || seen.Seq < value.Seq)
                {
                    latest[key] = value;
                }
            }
        }

        return latest.ToDictionary(p => p.Key, p => p.Value.Origin, StringComparer.Ordinal);
    }
}
