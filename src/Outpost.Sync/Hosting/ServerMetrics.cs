using System.Globalization;

namespace Outpost.Sync.Hosting;

/// <summary>
/// One scrape of a node's Prometheus <c>/metrics</c>: its garbage collections, its own timing of requests (the
/// <c>http.server.request.duration</c> histogram, per method and route) and how many requests it answered, with a
/// server error apart (the same histogram's counts, by status code). Two scrapes give what happened between them, as
/// the server saw it. The benchmarks read it, and the deploy agent compares a new version's server errors with the old one's.
/// </summary>
public sealed class ServerMetrics
{
    private const string Bucket = "http_server_request_duration_seconds_bucket";
    private readonly Dictionary<(string Method, string Route), SortedDictionary<double, double>> _histograms;

    private const string Count = "http_server_request_duration_seconds_count";

    private const string StageBucket = "outpost_sync_down_stage_duration_seconds_bucket";

    /// <summary>The "method" under which a down-feed stage's histogram is kept: <c>Percentile(StageMethod, "wake", 0.99)</c>.</summary>
    public const string StageMethod = "stage";

    private ServerMetrics(double collections, double fullCollections, double pauseSeconds, double workItems, double jitSeconds, double requests, double serverErrors,
        Dictionary<(string, string), SortedDictionary<double, double>> histograms)
    {
        Collections = collections;
        FullCollections = fullCollections;
        Requests = requests;
        ServerErrors = serverErrors;
        JitSeconds = jitSeconds;
        PauseSeconds = pauseSeconds;
        WorkItems = workItems;
        _histograms = histograms;
    }

    /// <summary>Garbage collections (all generations).</summary>
    public double Collections { get; }

    /// <summary>Of those, full (generation 2) collections.</summary>
    public double FullCollections { get; }

    /// <summary>Time the runtime paused for garbage collection.</summary>
    public double PauseSeconds { get; }

    /// <summary>Work items the thread pool ran.</summary>
    public double WorkItems { get; }

    /// <summary>Requests answered.</summary>
    public double Requests { get; }

    /// <summary>Of those, answered with a status of 500 or more.</summary>
    public double ServerErrors { get; }

    /// <summary>Time the JIT spent compiling methods (tiered compilation keeps re-compiling hot ones for a while after start).</summary>
    public double JitSeconds { get; }

    /// <summary>Reads <c>/metrics</c> from the node <paramref name="client"/> points at.</summary>
    public static async Task<ServerMetrics> ScrapeAsync(HttpClient client, CancellationToken cancellationToken) =>
        Parse(await client.GetStringAsync("/metrics", cancellationToken));

    /// <summary>Reads the Prometheus text format.</summary>
    public static ServerMetrics Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        double collections = 0, full = 0, pause = 0, workItems = 0, jit = 0, requests = 0, serverErrors = 0;
        var histograms = new Dictionary<(string, string), SortedDictionary<double, double>>();
        foreach (var line in text.Split('\n'))
        {
            // Comments, and values this reader has no use for (NaN, +Inf) are skipped.
            if (line.Length == 0 || line[0] == '#' || !double.TryParse(line.AsSpan(line.LastIndexOf(' ') + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                continue;
            }

            if (Named(line, "dotnet_gc_collections_total"))
            {
                collections += value;
                full += Label(line, "gc_heap_generation") == "gen2" ? value : 0;
            }
            else if (Named(line, "dotnet_gc_pause_time_seconds_total"))
            {
                pause += value;
            }
            else if (Named(line, "dotnet_thread_pool_work_item_count_total"))
            {
                workItems += value;
            }
            else if (Named(line, "dotnet_jit_compilation_time_seconds_total"))
            {
                jit += value;
            }
            else if (Named(line, Count))
            {
                requests += value;
                serverErrors += Label(line, "http_response_status_code") is ['5', _, _] ? value : 0;
            }
            else if (Named(line, StageBucket) && Label(line, "stage") is { } stage && Label(line, "le") is { } stageLe)
            {
                // HQ's down-feed stages (Outpost.Sync.Hq.SyncMetrics), kept as operations named ("stage", stage).
                var bound = stageLe == "+Inf" ? double.PositiveInfinity : double.Parse(stageLe, CultureInfo.InvariantCulture);
                if (!histograms.TryGetValue((StageMethod, stage), out var buckets))
                {
                    histograms[(StageMethod, stage)] = buckets = [];
                }

                buckets[bound] = buckets.GetValueOrDefault(bound) + value;
            }
            else if (Named(line, Bucket) && Label(line, "http_route") is { } route && Label(line, "http_request_method") is { } method && Label(line, "le") is { } le)
            {
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                if (!histograms.TryGetValue((method, route), out var buckets))
                {
                    histograms[(method, route)] = buckets = [];
                }

                // Summed over the other labels (status code, protocol): one histogram per operation.
                buckets[bound] = buckets.GetValueOrDefault(bound) + value;
            }
        }

        return new ServerMetrics(collections, full, pause, workItems, jit, requests, serverErrors, histograms);
    }

    /// <summary>What happened since an earlier scrape.</summary>
    public ServerMetrics Since(ServerMetrics earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        return new(Collections - earlier.Collections, FullCollections - earlier.FullCollections, PauseSeconds - earlier.PauseSeconds, WorkItems - earlier.WorkItems, JitSeconds - earlier.JitSeconds,
        Requests - earlier.Requests, ServerErrors - earlier.ServerErrors,
        _histograms.ToDictionary(h => h.Key, h => new SortedDictionary<double, double>(h.Value.ToDictionary(
            b => b.Key, b => b.Value - (earlier._histograms.TryGetValue(h.Key, out var before) ? before.GetValueOrDefault(b.Key) : 0)))));
    }

    /// <summary>
    /// A percentile of one operation's server-side duration, in milliseconds, interpolated within its bucket
    /// (null when the operation did not run; +∞ when it falls past the last bound).
    /// </summary>
    public double? Percentile(string method, string route, double q)
    {
        if (!_histograms.TryGetValue((method, route), out var buckets) || buckets.Count == 0 || buckets.Values.Max() <= 0)
        {
            return null;
        }

        var total = buckets[double.PositiveInfinity];
        var rank = q * total;
        double lower = 0, below = 0;
        foreach (var (bound, cumulative) in buckets)
        {
            if (cumulative >= rank)
            {
                return double.IsPositiveInfinity(bound) ? bound : (lower + (bound - lower) * (cumulative == below ? 1 : (rank - below) / (cumulative - below))) * 1000;
            }

            (lower, below) = (bound, cumulative);
        }

        return double.PositiveInfinity;
    }

    /// <summary>How many times an operation (or, with <see cref="StageMethod"/>, a down-feed stage) was timed.</summary>
    public double Timed(string method, string route) =>
        _histograms.TryGetValue((method, route), out var buckets) && buckets.TryGetValue(double.PositiveInfinity, out var total) ? total : 0;

    /// <summary>Each operation's histogram added up with another node's: a fleet of nodes seen as one.</summary>
    public ServerMetrics Plus(ServerMetrics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var histograms = _histograms.ToDictionary(h => h.Key, h => new SortedDictionary<double, double>(h.Value));
        foreach (var (key, buckets) in other._histograms)
        {
            if (!histograms.TryGetValue(key, out var mine))
            {
                histograms[key] = mine = [];
            }

            foreach (var (bound, value) in buckets)
            {
                mine[bound] = mine.GetValueOrDefault(bound) + value;
            }
        }

        return new(Collections + other.Collections, FullCollections + other.FullCollections, PauseSeconds + other.PauseSeconds, WorkItems + other.WorkItems, JitSeconds + other.JitSeconds,
            Requests + other.Requests, ServerErrors + other.ServerErrors, histograms);
    }

    private static bool Named(string line, string name) =>
        line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{';

    private static string? Label(string line, string name)
    {
        var at = line.IndexOf("," + name + "=\"", StringComparison.Ordinal);
        at = at >= 0 ? at : line.IndexOf("{" + name + "=\"", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var start = at + name.Length + 3;
        return line[start..line.IndexOf('"', start)];
    }
}
