using Microsoft.Extensions.Logging;
using Outpost.Core.Log;

namespace Outpost.Sync.Agent;

/// <summary>
/// The replication agent's two links, run a round at a time by their caller instead of by loops of their own
/// (<see cref="ReplicationAgent"/>): a round sends everything waiting up, then takes everything HQ has for the store,
/// through the same code (batches by priority lane, checkpoints, the down cursor moved in the transaction that stores
/// a page). For a host that runs thousands of stores on one schedule, where a loop per store waiting on the network
/// would cost more than the stores' own work (the fleet simulation's stand-ins); a store server runs the agent.
/// </summary>
public sealed class ReplicationRounds
{
    private readonly UpLink _up;
    private readonly DownLink _down;

    /// <summary>Creates the links over the store's <paramref name="log"/>; nothing is read or sent before the first round.</summary>
    public ReplicationRounds(IEventLog log, SyncClient client, ConnectivityMonitor monitor, SyncClientOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _up = new UpLink(log, client, monitor, options, time, loggers.CreateLogger<UpLink>());
        _down = new DownLink(log, client, monitor, options, time, loggers.CreateLogger<DownLink>());
    }

    /// <summary>
    /// One round: up, then down. Throws the first link's failure (HQ unreachable, a refusal); the monitor has it, and
    /// the next round goes on from what HQ acknowledged and what the store took.
    /// </summary>
    public async Task RoundAsync(CancellationToken cancellationToken)
    {
        await _up.RoundAsync(cancellationToken);
        await _down.RoundAsync(cancellationToken);
    }
}
