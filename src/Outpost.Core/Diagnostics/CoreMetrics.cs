using System.Diagnostics.Metrics;

namespace Outpost.Core.Diagnostics;

/// <summary>The log's metrics, under the meter <c>Outpost.Core</c> (exported by the hosts through OpenTelemetry).</summary>
public static class CoreMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Outpost.Core";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Events committed.</summary>
    public static readonly Counter<long> Appended = Meter.CreateCounter<long>("outpost.log.appended", "{event}", "Events durably appended to the log.");

    /// <summary>Events per group commit.</summary>
    public static readonly Histogram<int> CommitSize = Meter.CreateHistogram<int>("outpost.log.commit.size", "{event}", "Events written per transaction by the group commit.");

    /// <summary>Corrupt records met by reads.</summary>
    public static readonly Counter<long> CorruptRecords = Meter.CreateCounter<long>("outpost.log.corrupt_records", "{record}", "Records that failed their checksum or could not be read, each counted once per process; never served.");

    /// <summary>Events parked in dead letters.</summary>
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("outpost.log.dead_lettered", "{event}", "Events a consumer parked after its attempts ran out.");

    /// <summary>Groups a PostgreSQL writer staged ahead of the head's lock, by outcome (<c>committed</c> or <c>refused</c>).</summary>
    public static readonly Counter<long> Staged = Meter.CreateCounter<long>("outpost.log.staged", "{commit}",
        "Groups the PostgreSQL log's writer copied ahead of the log_head lock, by outcome: committed, or refused (another writer got ahead, or the group before failed) and written again lock first.");

    /// <summary>Events evicted by a byte budget.</summary>
    public static readonly Counter<long> Evicted = Meter.CreateCounter<long>("outpost.log.evicted", "{event}", "Events evicted, oldest first, to keep a topic within its byte budget.");
}
