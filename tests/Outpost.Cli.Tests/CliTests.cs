using System.Text.Json;

namespace Outpost.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-cli-tests", Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await OutpostCommand.RunAsync(args, output, Ct);
        return (exit, output.ToString());
    }

    [Fact]
    public async Task Demo_records_sales_feeds_the_read_model_refuses_a_duplicate_and_verifies_healthy()
    {
        var (exit, output) = await RunAsync("demo", "--sales", "400", "--tills", "4", "--data", _directory);

        Assert.True(exit == 0, output);
        Assert.Contains("the live tail saw 400 sales; the consumer is at #400 of #400", output, StringComparison.Ordinal);
        Assert.Contains("duplicate=True", output, StringComparison.Ordinal);
        Assert.Contains("Verification: ", output, StringComparison.Ordinal);
        Assert.Contains("0 damaged: healthy", output, StringComparison.Ordinal);
        Assert.Equal(4, output.Split('\n').Count(line => line.TrimStart().StartsWith("till-0", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Demo_replicates_both_ways_and_a_store_cut_off_catches_up_by_itself()
    {
        var (exit, output) = await RunAsync("demo", "--sales", "50", "--tills", "2", "--data", _directory);

        Assert.True(exit == 0, output);
        var lines = output.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains(lines, l => l.StartsWith("store-003: Offline since", StringComparison.Ordinal) && l.Contains("200 sales waiting to go up", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Plug back in: store-003 was Online again", StringComparison.Ordinal));

        // After the plug is back: every sale at HQ, every store exactly its prices, the newest one included.
        Assert.Contains("store-001: 300 sales at HQ; prices received: 017=1.79, 024=0.89", lines);
        Assert.Contains("store-002: 300 sales at HQ; prices received: 017=1.79, 024=0.89", lines);
        Assert.Contains("store-003: 500 sales at HQ; prices received: 017=1.79, 031=4.49", lines);
    }

    [Fact]
    public async Task Log_verify_exits_0_on_a_healthy_log_and_1_on_a_damaged_one()
    {
        var path = Path.Combine(_directory, "store-001.db");
        await using (var log = Outpost.Core.Log.Sqlite.SqliteEventLog.Open(new Outpost.Core.Log.LogOptions { Path = path, NodeId = "store-001" }))
        {
            for (var i = 0; i < 100; i++)
            {
                await log.AppendAsync(new Outpost.Core.Events.NewEvent
                {
                    Topic = "sales",
                    Type = "SaleCompleted",
                    Key = $"till-01-{i:D6}",
                    Payload = System.Text.Encoding.UTF8.GetBytes("""{"total":"1.00"}"""),
                }, Ct);
            }
        }

        var healthy = await RunAsync("log", "verify", path);
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        // Every copy of one sale's key (SQLite leaves stale copies in free space), so the live one is hit.
        var flipped = 0;
        for (var at = bytes.AsSpan().IndexOf("-000000"u8); at >= 0; at = bytes.AsSpan().IndexOf("-000000"u8))
        {
            bytes[at + 5] ^= 0x04;
            flipped++;
        }

        Assert.True(flipped > 0, "the sale's key was not found in the file");
        await File.WriteAllBytesAsync(path, bytes, Ct);

        var damaged = await RunAsync("log", "verify", path);

        Assert.Equal(0, healthy.Exit);
        Assert.EndsWith("healthy", healthy.Output.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(1, damaged.Exit);
        Assert.Contains("1 damaged", damaged.Output, StringComparison.Ordinal);
        Assert.Contains("checksum", damaged.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_of_a_missing_file_says_so_and_exits_2()
    {
        var (exit, output) = await RunAsync("log", "verify", Path.Combine(_directory, "nope.db"));

        Assert.Equal(2, exit);
        Assert.Contains("No log file at", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_whose_mqtt_settings_cannot_work_does_not_start_and_says_which()
    {
        Directory.CreateDirectory(_directory);
        var settings = Path.Combine(_directory, "store.json");
        await File.WriteAllTextAsync(settings, """{"Mqtt":{"Broker":"http://broker:1883","In":[{"Filter":"kitchen/#/temperature"}]}}""", Ct);
        var (exit, output) = await RunAsync("store", "--id", "s-1", "--data", Path.Combine(_directory, "s-1"), "--settings", settings);
        Assert.Equal(2, exit);
        Assert.Contains("Mqtt:Broker is mqtt://host:port, not 'http://broker:1883/'", output, StringComparison.Ordinal);

        await File.WriteAllTextAsync(settings, """{"Mqtt":{"Broker":"mqtt://127.0.0.1:1883","In":[{"Filter":"kitchen/#/temperature"}]}}""", Ct);
        (exit, output) = await RunAsync("store", "--id", "s-1", "--data", Path.Combine(_directory, "s-1"), "--settings", settings);
        Assert.Equal(2, exit);
        Assert.Contains("Mqtt:In:0:Filter 'kitchen/#/temperature' is not an MQTT topic filter", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_food_safety_service_with_settings_that_cannot_work_does_not_start_and_says_which()
    {
        var (exit, output) = await RunAsync("food-safety", "--store", "not a url", "--token", "t");
        Assert.Equal(2, exit);
        Assert.Contains("The store 'not a url' (--store) is not an address", output, StringComparison.Ordinal);

        (exit, output) = await RunAsync("food-safety", "--store", "http://127.0.0.1:9", "--token", "t", "--min", "5", "--max", "5");
        Assert.Equal(2, exit);
        Assert.Contains("--min below --max", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_log_prints_each_figure_beside_the_raw_limit_and_writes_json()
    {
        var json = Path.Combine(_directory, "log.json");

        var (exit, output) = await RunAsync("bench", "log", "--events", "2000", "--rounds", "1", "--dir", _directory, "--json", json);

        Assert.Equal(0, exit);
        Assert.Contains("of raw", output, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct)).RootElement;
        Assert.Equal(2000, root.GetProperty("events").GetInt32());
        Assert.True(root.GetProperty("rawBatchInsertPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("logConcurrentRatio").GetDouble() > 0);
        Assert.True(root.GetProperty("singleAppendP99Ms").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_store_runs_the_store_server_and_hq_as_processes_and_times_operations_at_the_till_and_in_the_server()
    {
        var json = Path.Combine(_directory, "store.json");

        var (exit, output) = await RunAsync("bench", "store", "--devices", "2", "--seconds", "2", "--boards", "2", "--lagging-service", "2000", "--json", json);

        Assert.True(exit == 0, output);
        Assert.Contains("store server: process ", output, StringComparison.Ordinal);
        Assert.Contains("limit: /health/live", output, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct)).RootElement;
        foreach (var phase in new[] { "online", "offline" })
        {
            var atTill = root.GetProperty(phase);
            var inServer = root.GetProperty(phase + "InServer");
            foreach (var operation in new[] { "price check", "basket update", "checkout", "limit: /health/live" })
            {
                Assert.True(atTill.GetProperty(operation)[1].GetDouble() > 0, $"{phase} {operation} at the till");
                Assert.True(inServer.GetProperty(operation)[1].GetDouble() > 0, $"{phase} {operation} in the server: {output}");
            }

            Assert.True(atTill.GetProperty("limit: durable commit")[1].GetDouble() > 0, $"{phase} durable commit");
        }

        Assert.True(root.GetProperty("fanOutP99Ms").GetDouble() > 0);
        Assert.Equal(2000, root.GetProperty("laggingEvents").GetInt32());
        Assert.True(root.GetProperty("laggingCheckoutP99Ratio").GetDouble() > 0, output);
        Assert.Contains("checkout p99 with a service 2,000 events behind / without", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_services_publishes_through_the_api_and_mqtt_through_the_bridge_each_beside_its_limit()
    {
        var json = Path.Combine(_directory, "services.json");

        var (exit, output) = await RunAsync("bench", "services", "--events", "2000", "--messages", "500", "--json", json);

        Assert.True(exit == 0, output);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct)).RootElement;
        foreach (var figure in new[] { "publishEventsPerSecond", "inProcessEventsPerSecond", "publishRatio", "publishP99Ms", "inProcessAppendP99Ms", "deliveryP99Ms",
                     "mqttIntoLogPerSecond", "mqttBrokerLimitPerSecond" })
        {
            Assert.True(root.GetProperty(figure).GetDouble() > 0, $"{figure}: {output}");
        }

        Assert.Contains("MQTT -> log (bridge)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_hq_ingests_through_hq_beside_raw_copy_and_accounts_for_every_part_of_the_cpu()
    {
        var json = Path.Combine(_directory, "hq.json");

        var (exit, output) = await RunAsync("bench", "hq", "--events", "16000", "--senders", "4", "--stores", "40", "--changes", "2", "--change-every", "500", "--nodes", "2", "--poller-processes", "2", "--json", json);

        Assert.True(exit == 0, output);
        Assert.Contains("this machine's CPU ceiling for that work", output, StringComparison.Ordinal);
        // The limit is measured with the client's COPY code compiled, and every phase starts on a settled server.
        Assert.Contains("one untimed binary COPY of the rows", output, StringComparison.Ordinal);
        Assert.DoesNotContain("phases start unsettled", output, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct)).RootElement;
        foreach (var figure in new[] { "rawCopyPerSecond", "rawIndexedCopyPerSecond", "rawIndexedTwoStreamsPerSecond", "logAlonePerSecond", "logAloneRatio", "ingestPerSecond", "ingestRatio", "ingestCpuCeilingPerSecond", "ingestCpuCeilingRatio" })
        {
            Assert.True(root.GetProperty(figure).GetDouble() > 0, $"{figure}: {output}");
        }

        // Every part that does the ingest's work is counted: HQ, the PostgreSQL server with its backends, the senders.
        var perEvent = root.GetProperty("ingestCpuMicrosPerEvent");
        foreach (var part in new[] { "HQ", "PostgreSQL", "the sending stores" })
        {
            Assert.True(perEvent.GetProperty(part).GetDouble() > 0, $"{part}: {output}");
        }

        Assert.True(root.GetProperty("ingestMachineBusyPercent").GetDouble() > 0, output);
        Assert.True(root.GetProperty("phasesSettled").GetBoolean(), output);
        Assert.Equal(0, root.GetProperty("deliveriesMissing").GetInt32());

        // The lunch peak: the stores registered beyond the senders', one small request in flight each, at two sizes;
        // HQ held exactly what they sent (checked by the run), and what the whole fleet would need is worked out.
        var peak = root.GetProperty("peak");
        Assert.Equal(40 - 4 * 2, peak.GetProperty("stores").GetInt32());
        Assert.Equal([1, 5], peak.GetProperty("shapes").EnumerateArray().Select(s => s.GetProperty("salesPerRequest").GetInt32()));
        foreach (var shape in peak.GetProperty("shapes").EnumerateArray())
        {
            Assert.True(shape.GetProperty("requestsPerSecond").GetDouble() > 0, output);
            Assert.True(shape.GetProperty("cpuMicrosPerRequest").GetProperty("PostgreSQL").GetDouble() > 0, output);
            Assert.True(shape.GetProperty("fleetCores").GetProperty("HQ").GetDouble() > 0, output);
        }

        // The fan-out over two HQ nodes: every change reached every store it concerns and no other, each node's
        // changes were measured, every stage at HQ was timed, and a scoped change woke only polls it concerned.
        var fanOut = root.GetProperty("fanOut");
        Assert.Equal(2, fanOut.GetProperty("nodes").GetInt32());
        Assert.Equal(500, fanOut.GetProperty("changeEveryMs").GetDouble());
        Assert.Equal(0, fanOut.GetProperty("deliveriesMissing").GetInt64());
        Assert.Equal(0, fanOut.GetProperty("deliveriesToOthers").GetInt64());
        Assert.Equal(2, fanOut.GetProperty("deliveryP99MsByNode").GetArrayLength());
        foreach (var stage in new[] { "feed", "wake", "read", "respond" })
        {
            Assert.True(fanOut.GetProperty("stages").GetProperty(stage).GetProperty("count").GetDouble() > 0, $"{stage}: {output}");
        }

        var regionWakes = fanOut.GetProperty("regionWakes").GetDouble();
        Assert.InRange(regionWakes, 1, fanOut.GetProperty("regionStoresConcerned").GetInt64());
        Assert.InRange(fanOut.GetProperty("storeWakes").GetDouble(), 1, fanOut.GetProperty("storeStoresConcerned").GetInt64());
        Assert.Contains("by the node it was published on: node 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_command_is_refused_with_a_non_zero_exit()
    {
        var (exit, _) = await RunAsync("fly");

        Assert.NotEqual(0, exit);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
