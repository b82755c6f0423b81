using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Outpost.Sync.Hq;

/// <summary>
/// HQ's timing of the way a change takes to the stores holding long polls, under the meter <c>Outpost.Sync</c>
/// (exported by HQ through OpenTelemetry, so <c>/metrics</c> shows it): one histogram,
/// <c>outpost.sync.down.stage.duration</c>, by stage.
/// </summary>
public static class SyncMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Outpost.Sync";

    /// <summary>The feed read the log's new down events into its window after a commit (one read for every held poll).</summary>
    public const string Feed = "feed";

    /// <summary>From the feed finding a change in a poll's scopes to the poll running again (the thread pool's queue).</summary>
    public const string Wake = "wake";

    /// <summary>A poll taking its scopes' events from the window (or, behind it, from the log).</summary>
    public const string Read = "read";

    /// <summary>Encoding, compressing and writing the answer.</summary>
    public const string Respond = "respond";

    /// <summary>Checking the store's credential (and its client certificate), on every sync request.</summary>
    public const string Authenticate = "authenticate";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Stage = Meter.CreateHistogram(
        "outpost.sync.down.stage.duration", "s", "Time a down request spent in each stage: feed, wake, read, respond, authenticate.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Sync requests a node turned away busy (<see cref="SyncAdmission"/>): <c>outpost.sync.busy</c>.</summary>
    public static readonly Counter<long> TurnedAway = Meter.CreateCounter<long>("outpost.sync.busy", "{request}", "Sync requests this HQ node turned away with 503 because it had as many working and waiting as it admits.");

    /// <summary>Records that a stage started at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp) ended now.</summary>
    public static void Record(string stage, long started) =>
        Stage.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
}
