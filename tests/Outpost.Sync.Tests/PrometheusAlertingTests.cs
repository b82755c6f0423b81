using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Outpost.Central.Fleet;
using Outpost.Core.Events;
using Outpost.Retail.Telemetry;
using Outpost.Sync.Agent;
using Outpost.Sync.Faults;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>
/// HQ's fleet on <c>/metrics</c>, and the shipped Prometheus rules and Alertmanager routing run for real: Prometheus
/// scrapes HQ, a store goes offline, the rule fires, Alertmanager delivers the alert to a webhook, and it resolves when
/// the store is back.
/// </summary>
public sealed partial class PrometheusAlertingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The rules file the project ships (deploy/prometheus), found from the test's folder up.</summary>
    private static string ShippedRules
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var rules = Path.Combine(directory.FullName, "deploy", "prometheus", "outpost-rules.yml");
                if (File.Exists(rules))
                {
                    return rules;
                }
            }

            throw new FileNotFoundException("deploy/prometheus/outpost-rules.yml not found above " + AppContext.BaseDirectory);
        }
    }

    [Fact]
    public async Task HQs_metrics_give_each_store_with_bounded_labels()
    {
        await using var cluster = await Cluster.StartAsync(configure: o => o.Alerts.Interval = TimeSpan.FromMilliseconds(200));
        var store = await cluster.StartStoreAsync("m1", "north");
        await cluster.RegisterAsync("m2", "south"); // registered, never seen
        for (var i = 0; i < 3; i++)
        {
            await store.Log.AppendAsync(Cluster.Sale($"m{i}"), Ct);
        }

        string metrics = "";
        Assert.True(await Cluster.EventuallyAsync(async () =>
            Value(metrics = await cluster.Admin.GetStringAsync(new Uri(cluster.HqAddress, "metrics"), Ct), "outpost_fleet_store_connected", ("store", "m1"), ("region", "north")) == 1
            && Value(metrics, "outpost_fleet_store_upload_backlog", "m1") == 0
            && Value(metrics, "outpost_hq_read_model_lag", ("read_model", "hq-sales-daily")) == 0, Bound), "HQ's /metrics never showed m1 connected with nothing waiting, its sales read:\n" + metrics);

        Assert.Equal(1, Value(metrics, "outpost_fleet_store_info", ("store", "m1"), ("region", "north"), ("version", SyncClient.SoftwareVersion)));
        Assert.Equal(0, Value(metrics, "outpost_fleet_store_download_lag", "m1"));
        Assert.InRange(Value(metrics, "outpost_fleet_store_last_seen_age_seconds", "m1")!.Value, 0, 60);
        // A store never seen is listed, not connected, and has no last-seen age.
        Assert.Equal(0, Value(metrics, "outpost_fleet_store_connected", ("store", "m2"), ("region", "south")));
        Assert.Null(Value(metrics, "outpost_fleet_store_last_seen_age_seconds", "m2"));
        Assert.Equal(0, Value(metrics, "outpost_hq_parked_events"));

        // Bounded labels: a fleet series names a store and its region (and a version or an alert), never a device or a sale.
        var labels = FleetLabels().Matches(metrics).SelectMany(m => m.Groups[1].Value.Split(',')).Select(l => l.Split('=')[0]).ToHashSet();
        Assert.Subset(new HashSet<string> { "store", "region", "version", "alert", "otel_scope_name", "otel_scope_version" }, labels);
    }

    [Fact]
    public async Task Each_HQ_in_a_process_exposes_its_own_fleet_only()
    {
        // Tests run several HQs in one process; a retailer runs one a process, but its metrics must be its own either way.
        await using var first = await Cluster.StartAsync(configure: o => o.Alerts.Interval = TimeSpan.FromMilliseconds(200));
        await using var second = await Cluster.StartAsync(configure: o => o.Alerts.Interval = TimeSpan.FromMilliseconds(200));
        await first.RegisterAsync("own-1", "north");
        await second.RegisterAsync("other-1", "south");
        string a = "", b = "";
        Assert.True(await Cluster.EventuallyAsync(async () =>
            Value(a = await first.Admin.GetStringAsync(new Uri(first.HqAddress, "metrics"), Ct), "outpost_fleet_store_connected", "own-1") == 0
            && Value(b = await second.Admin.GetStringAsync(new Uri(second.HqAddress, "metrics"), Ct), "outpost_fleet_store_connected", "other-1") == 0, Bound),
            $"each HQ should list its store:\n{a}\n---\n{b}");
        Assert.Null(Value(a, "outpost_fleet_store_connected", "other-1"));
        Assert.Null(Value(b, "outpost_fleet_store_connected", "own-1"));
    }

    [Fact]
    public async Task A_store_going_offline_fires_the_shipped_rule_through_Alertmanager_to_a_webhook_and_resolves_when_it_is_back()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(configure: o =>
        {
            // No webhook of HQ's own: Prometheus and Alertmanager deliver. Above the test store's 2 s long poll and the
            // fleet figures' 2 s flush, as the default 10 minutes is above 25 s.
            o.Alerts.OfflineAfter = TimeSpan.FromSeconds(6);
            o.Alerts.Interval = TimeSpan.FromMilliseconds(200);
        });
        await using var proxy = new FaultProxy(cluster.HqAddress);
        var store = await cluster.StartStoreAsync("p1", "north", via: proxy.Address);
        await store.Log.AppendAsync(Cluster.Sale("p1-sale"), Ct); // HQ appends it: the log's counters are on /metrics
        Assert.True(await Cluster.EventuallyAsync(async () => Value(await cluster.Admin.GetStringAsync(new Uri(cluster.HqAddress, "metrics"), Ct), "outpost_fleet_store_connected", "p1") == 1, Bound),
            "p1 never showed connected on HQ's /metrics");

        // A second store's telemetry as replication delivers it (a device and a health report), so HQ exposes the
        // device and disk metrics the dashboard reads; registered and never seen itself, it raises no alert.
        await cluster.RegisterAsync("p2", "south");
        var at = DateTimeOffset.UtcNow;
        await cluster.HqLog.AppendBatchAsync(
        [
            Telemetry("p2", 1, TelemetryEvents.DeviceHeartbeat, NewEvent.Json(new DeviceHeartbeatV1("till-1", "till", "web-1", at), TelemetryJsonContext.Default.DeviceHeartbeatV1)),
            Telemetry("p2", 2, TelemetryEvents.StoreHealthReported, NewEvent.Json(new StoreHealthReportedV1(at, 60, 3.5, 200_000_000, 40_000_000_000, 100_000_000_000, 1_000_000, 0, 0,
                new Dictionary<string, long>(), 120, new Dictionary<string, double> { ["baskets"] = 4.2 }, 0, "reachable", 0, 1, 1, null), TelemetryJsonContext.Default.StoreHealthReportedV1)),
        ], cancellationToken: Ct);
        Assert.True(await Cluster.EventuallyAsync(async () =>
            (await cluster.Admin.GetStringAsync(new Uri(cluster.HqAddress, "metrics"), Ct)).Contains("outpost_fleet_store_disk_free_bytes{", StringComparison.Ordinal), Bound),
            "p2's health report never reached HQ's /metrics");

        await using var ops = await AlertingTools.StartAsync(cluster.HqAddress, receiver.Url, ShippedRules);
        using var prometheus = new HttpClient { BaseAddress = ops.Prometheus, Timeout = TimeSpan.FromSeconds(5) };
        Assert.True(await Cluster.EventuallyAsync(async () => (await prometheus.GetStringAsync("api/v1/targets?state=active", Ct)).Contains("\"health\":\"up\"", StringComparison.Ordinal), Bound),
            "Prometheus never scraped HQ: " + ops.Logs());
        await Task.Delay(3000, Ct);
        Assert.Empty(receiver.Messages()); // connected: nothing fires

        // The link goes down: HQ's evaluator decides, Prometheus's rule fires, Alertmanager delivers.
        var cut = Stopwatch.StartNew();
        proxy.Mode = ProxyMode.Cut;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(receiver.Messages().Count >= 1), Bound), "no alert reached the webhook: " + ops.Logs());
        var firing = receiver.Received.First();
        Assert.Equal(("firing", "StoreOffline", "p1"), receiver.Messages()[0]);
        var alert = firing.GetProperty("alerts")[0];
        Assert.Equal(("north", "page"), (alert.GetProperty("labels").GetProperty("region").GetString(), alert.GetProperty("labels").GetProperty("severity").GetString()));
        Assert.Contains("has not synced", alert.GetProperty("annotations").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.True(cut.Elapsed >= TimeSpan.FromSeconds(6), $"fired {cut.Elapsed.TotalSeconds:F1} s after the cut, before HQ's 6 s");

        // Every metric the shipped rules and the Grafana dashboard read is one HQ exposes (Prometheus's own up aside), and
        // Prometheus takes every dashboard query: neither can rot silently.
        var metrics = await cluster.Admin.GetStringAsync(new Uri(cluster.HqAddress, "metrics"), Ct);
        var rules = (await File.ReadAllLinesAsync(ShippedRules, Ct)).Where(l => l.TrimStart().StartsWith("expr:", StringComparison.Ordinal)).ToList();
        var dashboard = await DashboardQueriesAsync();
        var used = rules.Concat(dashboard).SelectMany(l => MetricNames().Matches(l).Select(m => m.Value)).Where(n => n != "up").ToHashSet();
        Assert.True(used.Count >= 12, string.Join(", ", used));
        Assert.All(used, name => Assert.Matches("(?m)^" + name + "[{ ]", metrics));
        foreach (var query in dashboard)
        {
            var answer = JsonDocument.Parse(await prometheus.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(query.Replace("$region", ".*", StringComparison.Ordinal)), Ct)).RootElement;
            Assert.True(answer.GetProperty("status").GetString() == "success", $"Prometheus refused the dashboard's query {query}: {answer}");
        }

        // It comes back: resolved.
        proxy.Mode = ProxyMode.Pass;
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(receiver.Messages().Any(m => m.Status == "resolved")), Bound), "the alert never resolved: " + ops.Logs());
        Assert.Equal(("resolved", "StoreOffline", "p1"), receiver.Messages().First(m => m.Status == "resolved"));
        Assert.DoesNotContain(receiver.Messages(), m => m.Alert != "StoreOffline" || m.Store != "p1");
    }

    [Fact]
    public async Task The_shipped_rules_and_alertmanager_example_pass_their_tools_checks()
    {
        var rules = ShippedRules;
        var deploy = Path.GetDirectoryName(Path.GetDirectoryName(rules))!;
        foreach (var (tool, arguments) in new[]
        {
            ("/usr/bin/promtool", new[] { "check", "rules", rules }),
            ("/usr/bin/promtool", new[] { "check", "config", Path.Combine(deploy, "prometheus", "prometheus.yml") }),
            ("/usr/bin/amtool", new[] { "check-config", Path.Combine(deploy, "alertmanager", "alertmanager.yml") }),
        })
        {
            Assert.True(File.Exists(tool), $"{tool} is missing: apt-get install -y prometheus prometheus-alertmanager (./test.sh does this when run as root).");
            var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync(Ct) + await process.StandardError.ReadToEndAsync(Ct);
            await process.WaitForExitAsync(Ct);
            Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
        }
    }

    [Fact]
    public async Task Every_alert_hqs_evaluator_raises_has_its_shipped_rule_and_no_rule_routes_an_alert_it_does_not_raise()
    {
        var text = await File.ReadAllTextAsync(ShippedRules, Ct);
        var routed = Regex.Matches(text, @"outpost_fleet_alert\{alert=""(\w+)""\}").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(AlertService.Names.Order(), routed.Order());
        Assert.All(AlertService.Names, name => Assert.Contains($"- alert: {name}\n", text, StringComparison.Ordinal));
    }

    private static NewEvent Telemetry(string store, long seq, string type, byte[] payload) => new()
    {
        Topic = TelemetryEvents.Topic, Type = type, Key = type, Scope = Scope.Store(store), Payload = payload,
        Origin = new EventOrigin(NodeId.Parse(store), seq, HlcTimestamp.From(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), (int)seq)),
    };

    /// <summary>Every query of the shipped Grafana dashboard (deploy/grafana/outpost-fleet.json).</summary>
    private static async Task<List<string>> DashboardQueriesAsync()
    {
        var path = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(ShippedRules))!, "grafana", "outpost-fleet.json");
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(path, Ct));
        var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.NotEmpty(queries);
        return queries;
    }

    /// <summary>The value of the series <paramref name="name"/> whose labels include <paramref name="labels"/> (in any order), or null when there is none.</summary>
    private static double? Value(string metrics, string name, params (string Name, string Value)[] labels)
    {
        foreach (Match line in Series().Matches(metrics))
        {
            if (line.Groups[1].Value == name && labels.All(l => line.Groups[2].Value.Split(',').Contains($"{l.Name}=\"{l.Value}\"")))
            {
                return double.Parse(line.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static double? Value(string metrics, string name, string store) => Value(metrics, name, ("store", store));

    [GeneratedRegex(@"^([a-z_]+)\{([^}]*)\} (\S+)$", RegexOptions.Multiline)]
    private static partial Regex Series();

    [GeneratedRegex(@"^outpost_fleet_[a-z_]+\{([^}]*)\}", RegexOptions.Multiline)]
    private static partial Regex FleetLabels();

    [GeneratedRegex(@"\b(outpost_[a-z_]+|up)\b")]
    private static partial Regex MetricNames();
}
