using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Cli.Simulation;

/// <summary><c>outpost simulate</c>: a fleet under a seeded schedule of faults, and the checker's verdict.</summary>
internal static class SimulateCommand
{
    public static Command Create(TextWriter output)
    {
        var stores = new Option<int>("--stores") { Description = "Stores, each a real store server with its own log, agent and checkout.", DefaultValueFactory = _ => 40 };
        var devices = new Option<int>("--devices-per-store") { Description = "Tills per store, each an enrolled device selling through the store's API.", DefaultValueFactory = _ => 4 };
        var hq = new Option<string>("--hq") { Description = "HQ's database: sqlite (one node), or postgres (a throwaway local PostgreSQL server, several nodes sharing it).", DefaultValueFactory = _ => "sqlite" };
        var hqNodes = new Option<int?>("--hq-nodes") { Description = "HQ nodes the stores are spread over (default: 1 on sqlite, 2 on postgres)." };
        var hqKills = new Option<int?>("--hq-kills") { Description = "SIGKILLs of HQ nodes over the span, in turn, each started again after a while (postgres only; default 2 there)." };
        var restarts = new Option<int?>("--postgres-restarts") { Description = "Crashes of HQ's PostgreSQL server over the span, each followed by a restart on the same files (default 1 on postgres)." };
        var loseNode = new Option<bool?>("--lose-node") { Description = "Lose one HQ node for good during the span, the others carrying its stores (default: true on postgres with two nodes or more)." };
        var clockFaults = new Option<bool>("--clock-faults") { Description = "Set some stores' clocks wrong: one in ten hours ahead or behind, one in twenty jumping back (stores in this process).", DefaultValueFactory = _ => true };
        var processStores = new Option<int>("--process-stores") { Description = "Stores that run as processes of their own (outpost store), killed with SIGKILL and started again.", DefaultValueFactory = _ => 2 };
        var kills = new Option<int>("--kills") { Description = "SIGKILLs over the span, spread over the process stores in turn.", DefaultValueFactory = _ => 6 };
        var damaged = new Option<int?>("--damaged-records") { Description = "Records of the process stores' logs damaged on disk (a bit flipped in a sale HQ does not hold yet; default 1 when a store runs as a process)." };
        var standIns = new Option<int>("--stand-ins") { Description = "Protocol-faithful stand-in stores beyond --stores (a log of their own and the real replication agent each, in processes of their own).", DefaultValueFactory = _ => 0 };
        var standInKills = new Option<int?>("--stand-in-kills") { Description = "SIGKILLs of the stand-ins' processes over the span, in turn (default: one per process)." };
        var previous = new Option<double>("--previous-release")
        {
            Description = "The share of stores (real and stand-ins) on the previous release's event versions (SaleCompleted v1; the others write v2).", DefaultValueFactory = _ => 0.25,
        };
        var hours = new Option<double>("--hours") { Description = "Simulated hours.", DefaultValueFactory = _ => 2 };
        var days = new Option<double?>("--days") { Description = "Simulated days, instead of --hours (--days 1 is --hours 24)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the sales, the price changes and the faults: the same seed replays the same schedule.", DefaultValueFactory = _ => 1 };
        var perDay = new Option<int>("--sales-per-day") { Description = "A store's sales in a whole day, spread over its local day.", DefaultValueFactory = _ => 600 };
        var speed = new Option<double>("--seconds-per-hour") { Description = "Real seconds a simulated hour takes.", DefaultValueFactory = _ => 20 };
        var report = new Option<DirectoryInfo>("--report") { Description = "Where to write verdict.json and report.html.", DefaultValueFactory = _ => new DirectoryInfo("simulation-results") };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Where HQ's and the stores' files go (default: a new temp folder, deleted after a verdict that passed)." };
        var offlineDays = new Option<int>("--offline-days")
        {
            Description = "Instead of the fleet run: cut the stores off from HQ and the payment host for this many days (14: the span leading point-of-sale systems promise), then check what they sold and how they caught up.",
        };
        var secondsPerOfflineDay = new Option<double>("--seconds-per-offline-day") { Description = "Real seconds an offline day takes (--offline-days).", DefaultValueFactory = _ => 10 };
        var inject = new Option<string?>("--inject") { Description = "A defect to inject before the check, to see the checker catch it: " + SimulationChecker.Defects + "." };
        var command = new Command("simulate", "Run a fleet of store servers and HQ under a seeded schedule of link faults, and check that nothing was lost or doubled and every store converged.");
        foreach (var option in new Option[] { hq, hqNodes, hqKills, restarts, loseNode, clockFaults, stores, devices, processStores, kills, damaged, standIns, standInKills, previous, hours, days, seed, perDay, speed, report, data, inject, offlineDays, secondsPerOfflineDay })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            var settings = new SimulationSettings
            {
                Hq = result.GetValue(hq)!,
                HqNodes = result.GetValue(hqNodes) ?? (result.GetValue(hq) == "postgres" ? 2 : 1),
                HqKills = result.GetValue(hqKills) ?? (result.GetValue(hq) == "postgres" ? 2 : 0),
                PostgresRestarts = result.GetValue(restarts) ?? (result.GetValue(hq) == "postgres" ? 1 : 0),
                LoseNode = result.GetValue(loseNode) ?? (result.GetValue(hq) == "postgres" && (result.GetValue(hqNodes) ?? 2) >= 2),
                ClockFaults = result.GetValue(clockFaults),
                Stores = result.GetValue(stores),
                DevicesPerStore = result.GetValue(devices),
                ProcessStores = result.GetValue(processStores),
                Kills = result.GetValue(kills),
                DamagedRecords = result.GetValue(damaged) ?? (result.GetValue(processStores) > 0 ? 1 : 0),
                StandIns = result.GetValue(standIns),
                StandInKills = result.GetValue(standInKills) ?? (result.GetValue(standIns) + StandInFleet.PerProcess - 1) / StandInFleet.PerProcess,
                PreviousReleaseShare = result.GetValue(previous),
                Hours = result.GetValue(days) is { } d ? d * 24 : result.GetValue(hours),
                Seed = result.GetValue(seed),
                SalesPerDay = result.GetValue(perDay),
                SecondsPerHour = result.GetValue(speed),
                DataDirectory = result.GetValue(data)?.FullName,
                Inject = result.GetValue(inject),
            };
            if (settings.Stores < 1 || settings.DevicesPerStore < 1 || settings.Hours <= 0 || settings.SalesPerDay < 1 || settings.SecondsPerHour <= 0 || settings.ProcessStores < 0 || settings.Kills < 0
                || settings.DamagedRecords < 0 || settings.DamagedRecords > 0 && settings.ProcessStores == 0 || settings.StandIns is < 0 or > 100_000 || settings.StandInKills < 0
                || settings.PreviousReleaseShare is < 0 or > 1)
            {
                output.WriteLine("--stores, --devices-per-store and --sales-per-day must be at least 1; --hours and --seconds-per-hour more than 0; --process-stores, --kills, --damaged-records, --stand-ins (at most 100,000) and --stand-in-kills 0 or more (damaged records need a process store); --previous-release a share from 0 to 1.");
                return 2;
            }

            if (result.GetValue(days) is not null && result.GetResult(hours) is { Implicit: false })
            {
                output.WriteLine("--hours and --days are two ways to say the span: give one of them.");
                return 2;
            }

            if (settings.Hq is not ("sqlite" or "postgres") || settings.HqNodes < 1 || settings.Hq == "sqlite" && settings.HqNodes > 1)
            {
                output.WriteLine($"--hq {settings.Hq} --hq-nodes {settings.HqNodes}: HQ runs on sqlite (one node) or postgres (one or more nodes sharing the database).");
                return 2;
            }

            if (settings.Hq == "sqlite" && (settings.HqKills > 0 || settings.PostgresRestarts > 0 || settings.LoseNode) || settings.HqKills < 0 || settings.PostgresRestarts < 0
                || settings.LoseNode && settings.HqNodes < 2)
            {
                output.WriteLine("--hq-kills and --postgres-restarts (0 or more) and --lose-node need --hq postgres, whose nodes run as processes of their own; --lose-node needs --hq-nodes 2 or more.");
                return 2;
            }

            if (settings.Inject is not (null or "lose-one-sale" or "lose-one-stand-in-sale" or "double-one-sale" or "double-one-order") || settings.Inject == "lose-one-stand-in-sale" && settings.StandIns == 0)
            {
                output.WriteLine($"--inject {settings.Inject}: the defects the simulation can inject are {SimulationChecker.Defects} (lose-one-stand-in-sale with --stand-ins).");
                return 2;
            }

            if (result.GetValue(offlineDays) is var fortnight && fortnight != 0)
            {
                if (fortnight is < 1 or > 60 || result.GetValue(secondsPerOfflineDay) <= 0 || settings.Hq != "sqlite")
                {
                    output.WriteLine("--offline-days is 1 to 60 (HQ on sqlite), and --seconds-per-offline-day more than 0.");
                    return 2;
                }

                return await OfflineAsync(new OfflineFortnight(settings, fortnight, result.GetValue(secondsPerOfflineDay), output), result.GetValue(report)!, output, cancellationToken);
            }

            SimulationVerdict verdict;
            try
            {
                verdict = await new FleetSimulation(settings, output).RunAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The run itself broke (a store that would not start, say): no verdict, and the reason where the verdict would be.
                output.WriteLine($"SIMULATION FAILED before its verdict (seed {settings.Seed}): {ex}");
                output.WriteLine($"Replay: {settings.Command}");
                return 1;
            }

            var directory = result.GetValue(report)!;
            directory.Create();
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "verdict.json"), JsonSerializer.Serialize(verdict, SimulationJsonContext.Default.SimulationVerdict), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "report.html"), SimulationReport.Html(verdict), cancellationToken);
            Print(output, verdict);
            output.WriteLine($"written: {Path.Combine(directory.FullName, "verdict.json")}, {Path.Combine(directory.FullName, "report.html")}");
            if (!verdict.Passed)
            {
                output.WriteLine($"VERDICT: FAILED (seed {verdict.Seed}). Replay: {verdict.Command}");
                return 1;
            }

            output.WriteLine("VERDICT: PASSED");
            return 0;
        });
        // A process of stand-in stores, started by the simulation itself; not for people.
        var plan = new Option<string>("--plan") { Required = true };
        var urls = new Option<string>("--urls") { Required = true };
        var standInsCommand = new Command("stand-ins", "Internal: a process of the simulation's stand-in stores.") { Hidden = true };
        standInsCommand.Options.Add(plan);
        standInsCommand.Options.Add(urls);
        standInsCommand.SetAction(async (result, cancellationToken) => await StandInHost.RunAsync(output, result.GetValue(plan)!, result.GetValue(urls)!, cancellationToken));
        command.Subcommands.Add(standInsCommand);
        return command;
    }

    private static async Task<int> OfflineAsync(OfflineFortnight fortnight, DirectoryInfo report, TextWriter output, CancellationToken cancellationToken)
    {
        OfflineVerdict verdict;
        try
        {
            verdict = await fortnight.RunAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            output.WriteLine($"SIMULATION FAILED before its verdict: {ex}");
            output.WriteLine($"Replay: {fortnight.Command}");
            return 1;
        }

        report.Create();
        var path = Path.Combine(report.FullName, "verdict.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(verdict, SimulationJsonContext.Default.OfflineVerdict), cancellationToken);
        var html = Path.Combine(report.FullName, "report.html");
        await File.WriteAllTextAsync(html, SimulationReport.Html(verdict), cancellationToken);
        output.Write(verdict.Describe());
        output.WriteLine($"written: {path}, {html}");
        output.WriteLine(verdict.Passed ? "VERDICT: PASSED" : $"VERDICT: FAILED (seed {verdict.Seed}). Replay: {verdict.Command}");
        return verdict.Passed ? 0 : 1;
    }

    private static void Print(TextWriter output, SimulationVerdict v)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"  sales: planned {v.Planned:N0}, acknowledged to tills {v.Acknowledged:N0}, failed at a device {v.FailedAtDevice} (must be 0), stored at HQ {v.StoredAtHq:N0}");
        if (v.SalesWhileDown + v.OrdersWhileDown + v.StockCountsWhileDown > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  given up at a device while its store's process was down (killed, or starting again; \"try again\", not a failure): {v.SalesWhileDown} sales, {v.OrdersWhileDown} orders, {v.StockCountsWhileDown} counts");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  lost: {v.Lost} (at HQ {v.LostAtHq}, at the store {v.LostAtStore})   applied twice: {v.Doubled}   must both be 0");
        if (v.DamagedPlanned > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  damaged on disk: {v.DamagedRecords} of {v.DamagedPlanned} sale record(s) (apart from lost: the disk lost them); at HQ {v.DamagedAtHq}, not reported by their store {v.DamagedUnreported} (must both be 0)");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  kiosk orders: planned {v.OrdersPlanned:N0}, confirmed {v.OrdersAcknowledged:N0}, at HQ {v.OrdersAtHq:N0}; lost {v.OrdersLost}, placed twice {v.OrdersDoubled} (must both be 0)");
        text.AppendLine(CultureInfo.InvariantCulture, $"  stock counts: planned {v.StockCountsPlanned:N0}, acknowledged {v.StockCountsAcknowledged:N0}, lost {v.StockCountsLost}; devices' heartbeats at HQ {v.Heartbeats:N0}");
        if (v.StandIns > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  stand-in stores (their sales are in the figures above): {v.StandIns:N0} in {v.StandInProcesses} process(es), {v.StandInKills} SIGKILLs of those processes (each crashing every store in it), their CPU {v.StandInCpuSeconds:F0} s");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  converged both ways, with the prices HQ set for them: {v.Converged:N0} of {v.Stores + v.StandIns:N0} stores");
        foreach (var line in v.NotConverged.Take(10))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    not converged: {line}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  HQ's sales read model equals a recount of HQ's log: {(v.ReadModelMismatches.Count == 0 ? "yes" : $"no, {v.ReadModelMismatches.Count} stores differ")}");
        foreach (var line in v.ReadModelMismatches.Take(10))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {line}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  version skew: {v.PreviousRelease:N0} of {v.Stores + v.StandIns:N0} stores on the previous release's event versions; sales at HQ by version: {string.Join(", ", v.SalesAtHqByVersion.Select(p => $"{p.Key} {p.Value:N0}"))}; in a version their store does not write {v.WrongVersion.Count}, parked by HQ's read models {v.ParkedAtHq.Count} (must both be 0)");
        foreach (var line in v.WrongVersion.Concat(v.ParkedAtHq).Take(10))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {line}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  faults injected: {string.Join(", ", v.Faults.OrderBy(f => f.Key).Select(f => $"{f.Key} {f.Value}"))}; {v.PricesPublished} prices published by HQ");
        var recovery = v.KillRecoverySeconds.Count == 3
            ? string.Create(CultureInfo.InvariantCulture, $"; from the kill until online again with nothing waiting (real seconds): p50 {v.KillRecoverySeconds[0]:F2}, p99 {v.KillRecoverySeconds[1]:F2}, max {v.KillRecoverySeconds[2]:F2}; its start alone: p50 {v.StartSeconds[0]:F2}, p99 {v.StartSeconds[1]:F2}, max {v.StartSeconds[2]:F2}; {v.Restarts.Count(r => r.LinkFault && !r.CutShort)} of them overlapped a fault of the store's link{(v.KillRecoveryAloneSeconds.Count == 3 ? $", the others caught up after p50 {v.KillRecoveryAloneSeconds[0]:F2}, p99 {v.KillRecoveryAloneSeconds[1]:F2}, max {v.KillRecoveryAloneSeconds[2]:F2}" : "")}; sales scanned again after a crash lost their basket: {v.SalesStartedAgain}")
            : "";
        var cutShort = v.Restarts.Count(r => r.CutShort) is > 0 and var n ? $"; {n} still catching up when the store's next kill came (left out of these figures)" : "";
        text.AppendLine(CultureInfo.InvariantCulture, $"  SIGKILLs of store processes: {v.Kills}{recovery}{cutShort}");
        if (v.HqRecoverySeconds.Count == 3)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  HQ's recovery from its faults (real seconds: a node's kill until it answers again, PostgreSQL's crash until every node reads it again): p50 {v.HqRecoverySeconds[0]:F2}, p99 {v.HqRecoverySeconds[1]:F2}, max {v.HqRecoverySeconds[2]:F2}");
        }

        if (v.CatchUpSeconds.Count == 3)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  catch-up after a fault (real seconds until online with nothing waiting): p50 {v.CatchUpSeconds[0]:F2}, p99 {v.CatchUpSeconds[1]:F2}, max {v.CatchUpSeconds[2]:F2}");
        }

        if (v.UpLatencySeconds.Count == 3 && v.DownLatencySeconds.Count == 3)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  latency while connected (real seconds): up, a sale acknowledged until HQ holds it: p50 {v.UpLatencySeconds[0]:F3}, p99 {v.UpLatencySeconds[1]:F3}, max {v.UpLatencySeconds[2]:F3} ({v.UpLatencySamples} samples); down, a price HQ acknowledged until a till reads it: p50 {v.DownLatencySeconds[0]:F3}, p99 {v.DownLatencySeconds[1]:F3}, max {v.DownLatencySeconds[2]:F3} ({v.DownLatencySamples} samples)");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  settled after every link was restored in {v.SettleSeconds:F1} s; the run took {v.RealSeconds:F0} s real");
        var hq = v.HqCpuSeconds is { } hqCpu
            ? string.Create(CultureInfo.InvariantCulture, $"HQ's CPU {hqCpu / v.StoreDays:F2} s (its nodes and PostgreSQL), this process's CPU {v.ProcessCpuSeconds / v.StoreDays:F1} s (the stores and tills)")
            : string.Create(CultureInfo.InvariantCulture, $"process CPU {v.ProcessCpuSeconds / v.StoreDays:F1} s (HQ, stores and tills together)");
        text.AppendLine(CultureInfo.InvariantCulture, $"  per simulated store-day: {hq}, HQ database {v.HqDatabaseBytes / v.StoreDays / 1024:N0} KiB, on the wire {v.WireBytes / v.StoreDays / 1024:N0} KiB");
        text.AppendLine(CultureInfo.InvariantCulture, $"  memory: this process's peak {v.ProcessPeakMiB:N0} MiB{(v.HqPeakMiB is { } hqPeak ? $", HQ's nodes' peak together {hqPeak:N0} MiB" : "")}{(v.ProcessPeakOpenFiles is { } files ? $"; its open files and sockets at most {files:N0} of its limit {v.OpenFilesLimit:N0}" : "")}");
        output.Write(text.ToString());
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SimulationVerdict))]
[JsonSerializable(typeof(OfflineVerdict))]
[JsonSerializable(typeof(StandInPlan))]
[JsonSerializable(typeof(StandInStatus))]
internal sealed partial class SimulationJsonContext : JsonSerializerContext;
