using System.CommandLine;
using System.Text.Json.Serialization.Metadata;

namespace Outpost.Cli.Bench;

/// <summary><c>outpost bench</c>: end-to-end benchmarks that print their figure beside the physical limit.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var events = new Option<int>("--events") { Description = "Events to append in each throughput run.", DefaultValueFactory = _ => 1_000_000 };
        var payload = new Option<int>("--payload") { Description = "Payload bytes per event.", DefaultValueFactory = _ => 200 };
        var writers = new Option<int>("--writers") { Description = "Concurrent writers in the group-commit run.", DefaultValueFactory = _ => 16 };
        var window = new Option<int>("--in-flight") { Description = "Appends each concurrent writer keeps in flight.", DefaultValueFactory = _ => 64 };
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "Folder for the benchmark's files (default: a new temp folder, deleted after)." };
        var json = new Option<FileInfo>("--json") { Description = "Where to write the result as JSON.", DefaultValueFactory = _ => new FileInfo(Path.Combine("bench-results", "log.json")) };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of limit-then-log measurements; the verdict is their median.", DefaultValueFactory = _ => 3 };
        var log = new Command("log", "Append throughput and latency of the event log beside raw SQLite inserts on this machine.");
        foreach (var option in new Option[] { events, payload, writers, window, dir, json, rounds })
        {
            log.Options.Add(option);
        }

        log.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(events) < 1000 || result.GetValue(writers) < 1 || result.GetValue(window) < 1 || result.GetValue(payload) < 16 || result.GetValue(rounds) < 1)
            {
                output.WriteLine("--events must be at least 1000, --writers, --in-flight and --rounds at least 1, --payload at least 16.");
                return 2;
            }

            var directory = result.GetValue(dir)?.FullName ?? Path.Combine(Path.GetTempPath(), "outpost-bench-" + Guid.NewGuid().ToString("N")[..8]);
            var benchmark = new LogBenchmark(output, directory, result.GetValue(events), result.GetValue(payload), result.GetValue(writers), result.GetValue(window), result.GetValue(rounds));
            return await RunAsync(benchmark.RunAsync, benchmark.Cleanup, BenchJsonContext.Default.LogBenchResult, result.GetValue(json)!, cancellationToken);
        });

        var syncEvents = new Option<int>("--events") { Description = "Sales in the store's backlog for the catch-up run.", DefaultValueFactory = _ => 1_000_000 };
        var syncJson = new Option<FileInfo>("--json") { Description = "Where to write the result as JSON.", DefaultValueFactory = _ => new FileInfo(Path.Combine("bench-results", "sync.json")) };
        var batch = new Option<int>("--batch") { Description = "Most events per up batch.", DefaultValueFactory = _ => new Sync.Agent.SyncClientOptions().MaxBatchEvents };
        var inFlight = new Option<int>("--in-flight") { Description = "Up batches in flight.", DefaultValueFactory = _ => new Sync.Agent.SyncClientOptions().MaxInFlight };
        var sync = new Command("sync", "Replication store <-> HQ on this machine: catch-up rate beside raw SQLite, latencies both ways, bytes on the wire.");
        sync.Options.Add(syncEvents);
        sync.Options.Add(syncJson);
        sync.Options.Add(batch);
        sync.Options.Add(inFlight);
        sync.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(syncEvents) < 1000)
            {
                output.WriteLine("--events must be at least 1000.");
                return 2;
            }

            var benchmark = new SyncBenchmark(output, Path.Combine(Path.GetTempPath(), "outpost-bench-" + Guid.NewGuid().ToString("N")[..8]), result.GetValue(syncEvents), result.GetValue(batch), result.GetValue(inFlight));
            return await RunAsync(benchmark.RunAsync, benchmark.Cleanup, BenchJsonContext.Default.SyncBenchResult, result.GetValue(syncJson)!, cancellationToken);
        });

        var storeDevices = new Option<int>("--devices") { Description = "Simulated tills.", DefaultValueFactory = _ => 50 };
        var storeSeconds = new Option<int>("--seconds") { Description = "Seconds of load online, and again with the HQ link cut.", DefaultValueFactory = _ => 60 };
        var storeBoards = new Option<int>("--boards") { Description = "Menu boards on the live feed for the fan-out.", DefaultValueFactory = _ => 100 };
        var storeJson = new Option<FileInfo>("--json") { Description = "Where to write the result as JSON.", DefaultValueFactory = _ => new FileInfo(Path.Combine("bench-results", "store.json")) };
        var storePace = new Option<int>("--pace-ms") { Description = "Milliseconds a till waits after each answer before its next request (0: none, the server saturated).", DefaultValueFactory = _ => 100 };
        var storeLagging = new Option<int>("--lagging-service") { Description = "Then: a service this many events behind reads its subscription while the tills work, beside a phase without it (0: not measured).", DefaultValueFactory = _ => 0 };
        var storeTracing = new Option<bool>("--tracing") { Description = "Trace every request in both processes and export the spans by OTLP to a receiver in this process (compare with a run without)." };
        var store = new Command("store", "One store server under its devices: price checks, basket updates and checkouts online and with the HQ link cut; SSE fan-out to menu boards.");
        foreach (var option in new Option[] { storeDevices, storeSeconds, storeBoards, storeJson, storePace, storeTracing, storeLagging })
        {
            store.Options.Add(option);
        }

        store.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(storeDevices) is < 1 or > 1000 || result.GetValue(storeSeconds) is < 1 or > 3600 || result.GetValue(storeBoards) is < 1 or > 2000)
            {
                output.WriteLine("--devices 1-1000, --seconds 1-3600, --boards 1-2000.");
                return 2;
            }

            var benchmark = new StoreBenchmark(output, Path.Combine(Path.GetTempPath(), "outpost-bench-" + Guid.NewGuid().ToString("N")[..8]), result.GetValue(storeDevices),
                TimeSpan.FromSeconds(result.GetValue(storeSeconds)), result.GetValue(storeBoards), TimeSpan.FromMilliseconds(Math.Max(0, result.GetValue(storePace))), result.GetValue(storeTracing),
                Math.Clamp(result.GetValue(storeLagging), 0, 10_000_000));
            return await RunAsync(benchmark.RunAsync, benchmark.Cleanup, BenchJsonContext.Default.StoreBenchResult, result.GetValue(storeJson)!, cancellationToken);
        });

        var hqEvents = new Option<int>("--events") { Description = "Store events to ingest through HQ's sync endpoint.", DefaultValueFactory = _ => 1_000_000 };
        var hqSenders = new Option<int>("--senders") { Description = "Stores sending those events at once.", DefaultValueFactory = _ => 16 };
        var hqPollers = new Option<int>("--stores") { Description = "Stores holding down-feed long polls.", DefaultValueFactory = _ => 2000 };
        var hqChanges = new Option<int>("--changes") { Description = "Price changes for every store HQ publishes while they wait, one every --change-every.", DefaultValueFactory = _ => 20 };
        var hqEvery = new Option<int>("--change-every") { Description = "Milliseconds between two price changes for every store (their fan-outs overlap when it is shorter than one takes).", DefaultValueFactory = _ => 1000 };
        var hqNodes = new Option<int?>("--nodes") { Description = "HQ nodes on the one database the stores' polls are spread over (default: one per 10,000 stores)." };
        var hqProcesses = new Option<int?>("--poller-processes") { Description = "Processes simulating the polling stores (default: one per 5,000 stores)." };
        var hqPostgres = new Option<string?>("--postgres") { Description = "A PostgreSQL connection string to use (default: a throwaway local PostgreSQL 15 server)." };
        var hqJson = new Option<FileInfo>("--json") { Description = "Where to write the result as JSON.", DefaultValueFactory = _ => new FileInfo(Path.Combine("bench-results", "hq.json")) };
        var hq = new Command("hq", "HQ on PostgreSQL: ingest through the sync endpoint beside raw binary COPY; thousands of held long polls and price-change delivery, HQ memory and CPU.");
        foreach (var option in new Option[] { hqEvents, hqSenders, hqPollers, hqChanges, hqEvery, hqNodes, hqProcesses, hqPostgres, hqJson })
        {
            hq.Options.Add(option);
        }

        hq.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(hqEvents) < 1000 || result.GetValue(hqSenders) is < 1 or > 256 || result.GetValue(hqPollers) is < 1 or > 20_000 || result.GetValue(hqChanges) is < 1 or > 600
                || result.GetValue(hqEvery) is < 100 or > 60_000)
            {
                output.WriteLine("--events at least 1000, --senders 1-256, --stores 1-20000, --changes 1-600, --change-every 100-60000.");
                return 2;
            }

            var stores = result.GetValue(hqPollers);
            var nodes = result.GetValue(hqNodes) ?? (stores + 9_999) / 10_000;
            var processes = result.GetValue(hqProcesses) ?? (stores + 4_999) / 5_000;
            if (nodes is < 1 or > 8 || processes is < 1 or > 16 || stores / nodes > 15_000 || stores / processes > 15_000)
            {
                output.WriteLine("--nodes 1-8 and --poller-processes 1-16, each holding at most 15,000 stores' polls (a process here may have 20,000 files open).");
                return 2;
            }

            var benchmark = new HqBenchmark(output, result.GetValue(hqPostgres), result.GetValue(hqEvents), result.GetValue(hqSenders), stores, result.GetValue(hqChanges), nodes, processes, result.GetValue(hqEvery));
            return await RunAsync(benchmark.RunAsync, null, BenchJsonContext.Default.HqBenchResult, result.GetValue(hqJson)!, cancellationToken);
        });

        var rolloutStores = new Option<int>("--stores") { Description = "Simulated stores, each with a protocol-faithful deploy agent.", DefaultValueFactory = _ => 2000 };
        var rolloutSoak = new Option<int>("--soak-seconds") { Description = "HQ's soak time between waves.", DefaultValueFactory = _ => 10 };
        var rolloutPostgres = new Option<string?>("--postgres") { Description = "Run HQ on this PostgreSQL (default: SQLite, as shipped)." };
        var rolloutJson = new Option<FileInfo>("--json") { Description = "Where to write the result as JSON.", DefaultValueFactory = _ => new FileInfo(Path.Combine("bench-results", "rollout.json")) };
        var rollout = new Command("rollout", "A release rolled out in three waves to thousands of simulated agents: time to all healthy beside the floor, HQ CPU and memory, bytes per store.");
        foreach (var option in new Option[] { rolloutStores, rolloutSoak, rolloutPostgres, rolloutJson })
        {
            rollout.Options.Add(option);
        }

        rollout.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(rolloutStores) is < 20 or > 20_000 || result.GetValue(rolloutSoak) is < 0 or > 600)
            {
                output.WriteLine("--stores 20-20000, --soak-seconds 0-600.");
                return 2;
            }

            var benchmark = new RolloutBenchmark(output, result.GetValue(rolloutStores), result.GetValue(rolloutSoak), result.GetValue(rolloutPostgres));
            return await RunAsync(benchmark.RunAsync, benchmark.Cleanup, BenchJsonContext.Default.RolloutBenchResult, result.GetValue(rolloutJson)!, cancellationToken);
        });

        // The simulated stores of `bench hq`'s fan-out, run by it as processes of their own; not for people.
        var pollerStores = new Option<string>("--stores") { Required = true };
        var pollerReceipts = new Option<string>("--receipts") { Required = true };
        var pollers = new Command("pollers", "Internal: the polling stores of 'outpost bench hq'.") { Hidden = true };
        pollers.Options.Add(pollerStores);
        pollers.Options.Add(pollerReceipts);
        pollers.SetAction(async (result, cancellationToken) =>
            await PollerFleet.RunChildAsync(output, result.GetValue(pollerStores)!, result.GetValue(pollerReceipts)!, cancellationToken));

        var servicesEvents = new Option<int>("--events") { Description = "Events a service publishes through the API (in batches of 100).", DefaultValueFactory = _ => 100_000 };
        var servicesMessages = new Option<int>("--messages") { Description = "MQTT messages through the bridge.", DefaultValueFactory = _ => 20_000 };
        var servicesJson = new Option<FileInfo>("--json") { Description = "Where to write the result as JSON.", DefaultValueFactory = _ => new FileInfo(Path.Combine("bench-results", "services.json")) };
        var services = new Command("services", "The store's event API and MQTT bridge: publish throughput and latency beside an in-process append, delivery to a subscriber, MQTT messages into the log beside the broker alone.");
        foreach (var option in new Option[] { servicesEvents, servicesMessages, servicesJson })
        {
            services.Options.Add(option);
        }

        services.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(servicesEvents) is < 100 or > 10_000_000 || result.GetValue(servicesMessages) is < 100 or > 1_000_000)
            {
                output.WriteLine("--events 100-10,000,000, --messages 100-1,000,000.");
                return 2;
            }

            var benchmark = new ServicesBenchmark(output, Path.Combine(Path.GetTempPath(), "outpost-bench-" + Guid.NewGuid().ToString("N")[..8]),
                result.GetValue(servicesEvents) / 100 * 100, result.GetValue(servicesMessages));
            return await RunAsync(benchmark.RunAsync, benchmark.Cleanup, BenchJsonContext.Default.ServicesBenchResult, result.GetValue(servicesJson)!, cancellationToken);
        });

        var bench = new Command("bench", "End-to-end benchmarks; each prints its figure beside the physical limit measured in the same run.");
        bench.Subcommands.Add(log);
        bench.Subcommands.Add(sync);
        bench.Subcommands.Add(store);
        bench.Subcommands.Add(services);
        bench.Subcommands.Add(hq);
        bench.Subcommands.Add(rollout);
        bench.Subcommands.Add(pollers);
        return bench;

        // Every benchmark alike: run it, write its figures as JSON, say where, and clean up after it whatever happened.
        async Task<int> RunAsync<T>(Func<CancellationToken, Task<T>> run, Action? cleanup, JsonTypeInfo<T> type, FileInfo json, CancellationToken cancellationToken)
        {
            try
            {
                var figures = await run(cancellationToken);
                await LogBenchmark.WriteJsonAsync(figures, type, json.FullName, cancellationToken);
                output.WriteLine($"written: {json.FullName}");
                return 0;
            }
            finally
            {
                cleanup?.Invoke();
            }
        }
    }
}
