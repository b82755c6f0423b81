using System.Text.Json;
using Outpost.Cli.Simulation;
using Outpost.Core.Log;

namespace Outpost.Cli.Tests;

/// <summary>
/// <c>outpost simulate</c>: a seeded schedule replays exactly; a small fleet under link faults ends with nothing lost,
/// nothing doubled and every store converged; and the checker fails when HQ's data is damaged, so a passing verdict
/// means something.
/// </summary>
public sealed class SimulationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-sim-tests", Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_same_seed_gives_the_same_faults_and_sales_and_another_seed_other_ones()
    {
        var span = TimeSpan.FromHours(24);
        Assert.Equal(FaultSchedule.Create(7, 200, span), FaultSchedule.Create(7, 200, span));
        Assert.NotEqual(FaultSchedule.Create(7, 200, span), FaultSchedule.Create(8, 200, span));
        var start = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(DailyCurve.SaleTimes(7, 3, "Europe/Paris", start, span, 500), DailyCurve.SaleTimes(7, 3, "Europe/Paris", start, span, 500));
        Assert.NotEqual(DailyCurve.SaleTimes(7, 3, "Europe/Paris", start, span, 500), DailyCurve.SaleTimes(8, 3, "Europe/Paris", start, span, 500));
    }

    [Fact]
    public void Faults_are_heavy_tailed_never_overlap_on_a_link_and_one_store_in_a_hundred_is_offline_all_day()
    {
        // Kills are drawn apart (FaultSchedule.Kills), for the stores that run as processes.
        var span = TimeSpan.FromHours(24);
        var faults = FaultSchedule.Create(1, 2000, span);
        Assert.Equal(20, faults.Count(f => f.Kind == FaultKind.OfflineAllSpan));
        Assert.All(faults, f => Assert.True(f.Start >= TimeSpan.Zero && f.End <= span, $"{f} leaves the span"));
        foreach (var store in faults.GroupBy(f => f.Store))
        {
            var ordered = store.OrderBy(f => f.Start).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                Assert.True(ordered[i].Start >= ordered[i - 1].End, $"{ordered[i - 1]} and {ordered[i]} overlap");
            }
        }

        // Many short, a few very long: most under ten minutes, some over an hour.
        var lengths = faults.Where(f => f.Kind != FaultKind.OfflineAllSpan).Select(f => f.Duration).ToList();
        Assert.True(lengths.Count(d => d < TimeSpan.FromMinutes(10)) > lengths.Count * 0.8, "most faults should be short");
        Assert.True(lengths.Any(d => d > TimeSpan.FromHours(1)), "some faults should last hours");
        Assert.All(FaultSchedule.LinkKinds, kind => Assert.Contains(faults, f => f.Kind == kind));
        Assert.All(faults, f => Assert.Contains(f.Kind, FaultSchedule.LinkKinds));
        var killable = FaultSchedule.Killable(2000, 4);
        var kills = FaultSchedule.Kills(1, killable, span, 200);
        Assert.Equal(200, kills.Count);
        Assert.All(kills, k => Assert.Contains(k.Store, killable));
        Assert.Equal(4, kills.Select(k => k.Store).Distinct().Count());
        Assert.Equal(kills, FaultSchedule.Kills(1, killable, span, 200));
    }

    [Fact]
    public void A_device_s_give_up_counts_apart_only_when_its_store_s_process_was_down_at_some_moment_of_its_tries()
    {
        var downtime = new Downtime();
        var whileUp = downtime.Now;
        Assert.False(downtime.Since(whileUp)); // up all along: a give-up is the store's failure

        downtime.WentDown();
        Assert.True(downtime.Since(whileUp)); // killed while the device tried
        var whileDown = downtime.Now;
        downtime.CameUp();
        Assert.True(downtime.Since(whileUp)); // killed and back before the device gave up: it was down meanwhile
        Assert.True(downtime.Since(whileDown)); // began trying while it was down

        var afterwards = downtime.Now;
        Assert.False(downtime.Since(afterwards)); // up again and up since
    }

    [Fact]
    public void Sales_follow_the_store_s_local_day_lunch_busier_than_the_night()
    {
        var start = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
        foreach (var zone in new[] { "Europe/Paris", "America/New_York", "Asia/Tokyo" })
        {
            var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
            var hours = DailyCurve.SaleTimes(3, 1, zone, start, TimeSpan.FromDays(20), 1000).Select(t => TimeZoneInfo.ConvertTime(start + t, tz).Hour).ToList();
            Assert.InRange(hours.Count, 19_000, 21_000);
            Assert.True(hours.Count(h => h == 12) > 10 * hours.Count(h => h == 3), $"{zone}: lunch {hours.Count(h => h == 12)}, 3 am {hours.Count(h => h == 3)}");
        }
    }

    [Fact]
    public async Task A_small_fleet_under_link_faults_loses_nothing_doubles_nothing_and_converges()
    {
        var report = Path.Combine(_directory, "report");
        // 200 stores: 12 real store servers (two as processes of their own) and 188 protocol-faithful stand-ins in a process of their own.
        var (exit, output) = await RunAsync("simulate", "--stores", "12", "--devices-per-store", "2", "--process-stores", "2", "--kills", "4", "--stand-ins", "188", "--hours", "2", "--seed", "5",
            "--report", report, "--data", Path.Combine(_directory, "data"));
        Assert.True(exit == 0, output);
        Assert.Contains("VERDICT: PASSED", output, StringComparison.Ordinal);
        using var verdict = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(report, "verdict.json"), Ct));
        var v = verdict.RootElement;
        Assert.True(v.GetProperty("planned").GetInt32() > 5000, output);
        // Every sale acknowledged, but for any a till gave up on while its store's process was down (killed, starting).
        Assert.Equal(v.GetProperty("planned").GetInt32(), v.GetProperty("acknowledged").GetInt32() + v.GetProperty("salesWhileDown").GetInt32());
        Assert.Equal(0, v.GetProperty("failedAtDevice").GetInt32());
        Assert.Equal(0, v.GetProperty("lost").GetInt32());
        Assert.Equal(0, v.GetProperty("doubled").GetInt32());
        Assert.Equal(200, v.GetProperty("converged").GetInt32());
        // How close the run came to the process's limit on open files (past it, the run aborts): 12 store servers'
        // logs, their Kestrels and devices' connections hold more than a few hundred.
        Assert.InRange(v.GetProperty("processPeakOpenFiles").GetInt32(), 200, v.GetProperty("openFilesLimit").GetInt32());

        // The stand-ins: their process was SIGKILLed mid-span (every store in it at once) and started again on the same
        // files; every sale in their logs is at HQ once (counted in lost and doubled above), and they converged.
        Assert.Equal(188, v.GetProperty("standIns").GetInt32());
        Assert.Equal(1, v.GetProperty("standInProcesses").GetInt32());
        Assert.Equal(1, v.GetProperty("standInKills").GetInt32());

        // One sale's record was damaged on disk at a process store before it went up: it never reached HQ, every other
        // sale did (the store went on after it: converged above), and the store reported it on its status and to HQ.
        Assert.Equal((1, 1, 0, 0), (v.GetProperty("damagedPlanned").GetInt32(), v.GetProperty("damagedRecords").GetInt32(),
            v.GetProperty("damagedAtHq").GetInt32(), v.GetProperty("damagedUnreported").GetInt32()));
        Assert.Equal(v.GetProperty("acknowledged").GetInt32() - 1, v.GetProperty("storedAtHq").GetInt32());
        Assert.Empty(v.GetProperty("readModelMismatches").EnumerateArray());
        Assert.True(v.GetProperty("faults").EnumerateObject().Sum(f => f.Value.GetInt32()) > 0, "the run injected no fault");
        Assert.True(v.GetProperty("wireBytes").GetInt64() > 0);

        // Version skew: a quarter of the stores (real stores 0, 2, 5 and 10, among them process store 2, and a quarter of
        // the stand-ins) ran as the previous release, writing SaleCompleted v1; the others v2. HQ read both: every sale
        // came in the version its store writes (the process store's setting held across its SIGKILLs), none was parked,
        // and the read model equals the recount (above).
        Assert.Equal(Enumerable.Range(0, 200).Count(i => i * 0.6180339887498949 % 1 < 0.25), v.GetProperty("previousRelease").GetInt32());
        var byVersion = v.GetProperty("salesAtHqByVersion");
        Assert.True(byVersion.GetProperty("v1").GetInt32() > 1000, output);
        Assert.True(byVersion.GetProperty("v2").GetInt32() > 3000, output);
        Assert.Equal(v.GetProperty("storedAtHq").GetInt32(), byVersion.GetProperty("v1").GetInt32() + byVersion.GetProperty("v2").GetInt32());
        Assert.Empty(v.GetProperty("wrongVersion").EnumerateArray());
        Assert.Empty(v.GetProperty("parkedAtHq").EnumerateArray());

        // The kiosks' orders, the handhelds' counts and every device's heartbeats went up too (each store's counted
        // against HQ's with convergence above); no order was lost or placed twice.
        Assert.True(v.GetProperty("ordersPlanned").GetInt32() > 20, output);
        Assert.Equal(v.GetProperty("ordersPlanned").GetInt32(), v.GetProperty("ordersAcknowledged").GetInt32() + v.GetProperty("ordersWhileDown").GetInt32());
        Assert.InRange(v.GetProperty("ordersAtHq").GetInt32(), v.GetProperty("ordersAcknowledged").GetInt32(), v.GetProperty("ordersPlanned").GetInt32());
        Assert.Equal((0, 0), (v.GetProperty("ordersLost").GetInt32(), v.GetProperty("ordersDoubled").GetInt32()));
        Assert.True(v.GetProperty("stockCountsPlanned").GetInt32() > 5, output);
        Assert.Equal(v.GetProperty("stockCountsPlanned").GetInt32(), v.GetProperty("stockCountsAcknowledged").GetInt32() + v.GetProperty("stockCountsWhileDown").GetInt32());
        Assert.Equal(0, v.GetProperty("stockCountsLost").GetInt32());
        Assert.True(v.GetProperty("heartbeats").GetInt64() >= 12 * 4, output); // 12 stores x (2 tills, a kiosk, a handheld), at least once each

        // Two stores ran as processes of their own and were killed with SIGKILL five times in all, mid-sale or not.
        Assert.Equal(5, v.GetProperty("kills").GetInt32()); // and once more to damage the record
        Assert.Equal(4, v.GetProperty("faults").GetProperty("Kill").GetInt32());
        Assert.Equal(1, v.GetProperty("faults").GetProperty("DamagedRecord").GetInt32());
        Assert.Equal(3, v.GetProperty("killRecoverySeconds").GetArrayLength());
        var restarts = v.GetProperty("restarts").EnumerateArray().ToList();
        Assert.Equal(5, restarts.Count); // each kill: the store, the hour, its start's seconds and its recovery's
        Assert.All(restarts, r => Assert.StartsWith("sim-0000", r.GetProperty("store").GetString(), StringComparison.Ordinal));
        Assert.All(restarts, r => Assert.InRange(r.GetProperty("startSeconds").GetDouble(), 0.05, r.GetProperty("caughtUpSeconds").GetDouble()));

        // Store 5's clock ran three hours ahead all along, store 7's jumped two hours back; and so did the machine clocks
        // of the two stores run as processes (libfaketime): all converged above.
        Assert.Equal(2, v.GetProperty("faults").GetProperty("ClockAhead").GetInt32());
        Assert.Equal(2, v.GetProperty("faults").GetProperty("ClockJumpBack").GetInt32());

        // HQ changed promotions and settings too (and every store converged on them, above).
        await using (var hqLog = Outpost.Core.Log.Sqlite.SqliteEventLog.Open(new Outpost.Core.Log.LogOptions
        {
            Path = Path.Combine(_directory, "data", "hq", "hq.db"),
            NodeId = "hq",
            Topics = Outpost.Retail.RetailTopics.Catalog,
        }))
        {
            Assert.True(await hqLog.CountAsync(0, Outpost.Core.Log.ReadFilter.ForTopics("promotions"), Ct) > 0, "HQ published no promotion");
            Assert.True(await hqLog.CountAsync(0, Outpost.Core.Log.ReadFilter.ForTopics("config"), Ct) > 0, "HQ published no setting");

            // The process stores' wrong machine clocks took effect: the first stamped its sales three hours ahead, the
            // second's went two hours back after its jump.
            var processes = FaultSchedule.Killable(12, 2).Order().Select(SimulatedStore.StoreId).ToList();
            var completed = processes.ToDictionary(p => p, _ => new List<DateTimeOffset>());
            await foreach (var e in hqLog.EnumerateAsync(Outpost.Core.Log.ReadFilter.ForTopics("sales"), cancellationToken: Ct))
            {
                if (e.Type == "SaleCompleted" && completed.TryGetValue(e.Origin.Node.Value, out var times))
                {
                    times.Add(JsonDocument.Parse(e.Payload).RootElement.GetProperty("completedAt").GetDateTimeOffset());
                }
            }

            var now = DateTimeOffset.UtcNow;
            Assert.Contains(completed[processes[0]], t => t > now + TimeSpan.FromHours(2));
            Assert.Contains(completed[processes[1]], t => t < now - TimeSpan.FromHours(1.5));
        }

        // Latency while connected was measured both ways.
        Assert.True(v.GetProperty("upLatencySamples").GetInt32() > 10, output);
        Assert.True(v.GetProperty("downLatencySamples").GetInt32() > 5, output);
        Assert.Equal(3, v.GetProperty("upLatencySeconds").GetArrayLength());
        var html = await File.ReadAllTextAsync(Path.Combine(report, "report.html"), Ct);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("passed", html, StringComparison.Ordinal);

        // Each real store's catch-up after each link fault, by when it ended, in the verdict and plotted in the report.
        var catchUps = v.GetProperty("catchUps");
        Assert.True(catchUps.GetArrayLength() > 0, output);
        Assert.All(catchUps.EnumerateArray(), c => Assert.InRange(c.GetProperty("hour").GetDouble(), 0, 2));
        Assert.Contains("Catch-up after each link fault", html, StringComparison.Ordinal);
        Assert.Contains("Each SIGKILL of a store process", html, StringComparison.Ordinal);
        Assert.Equal(catchUps.GetArrayLength() + restarts.Count, html.Split("<circle").Length - 1); // a point each, in two plots
    }

    [Fact]
    public async Task Stores_cut_off_for_14_days_sell_at_the_prices_of_each_day_keep_cards_under_the_floor_limit_and_catch_up_by_themselves()
    {
        var report = Path.Combine(_directory, "report-offline");
        var (exit, output) = await RunAsync("simulate", "--offline-days", "14", "--seconds-per-offline-day", "2", "--stores", "2", "--devices-per-store", "2", "--sales-per-day", "100",
            "--seed", "3", "--report", report, "--data", Path.Combine(_directory, "data-offline"));
        Assert.True(exit == 0, output);
        Assert.Contains("VERDICT: PASSED", output, StringComparison.Ordinal);
        using var verdict = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(report, "verdict.json"), Ct));
        var v = verdict.RootElement;

        // Cut off all fortnight (HQ got nothing), then every sale at HQ once.
        Assert.Equal(0, v.GetProperty("salesAtHqBeforeReturn").GetInt64());
        Assert.True(v.GetProperty("acknowledged").GetInt32() > 1000, output);
        Assert.Equal(v.GetProperty("acknowledged").GetInt32(), v.GetProperty("storedAtHq").GetInt32());
        Assert.Equal((0, 0, 0), (v.GetProperty("lost").GetInt32(), v.GetProperty("doubled").GetInt32(), v.GetProperty("failedAtTill").GetInt32()));

        // The prices and the promotion HQ dated ahead took effect on their days, offline.
        Assert.Empty(v.GetProperty("wrongPrices").EnumerateArray());
        Assert.Empty(v.GetProperty("wrongPromotions").EnumerateArray());

        // Cards: approved offline up to the floor limit, refused above it, every approval forwarded once the host answered.
        Assert.True(v.GetProperty("cardOffline").GetInt32() > 100, output);
        Assert.True(v.GetProperty("cardRefusedAboveFloor").GetInt32() > 0, output);
        Assert.Equal(0, v.GetProperty("cardOverFloorOrOnline").GetInt32());
        Assert.Equal(v.GetProperty("cardOffline").GetInt32(), v.GetProperty("cardForwarded").GetInt32());

        // How the stores' data grew each day, and how long each took to catch up.
        Assert.Equal(14, v.GetProperty("dataBytesByDay").GetArrayLength());
        Assert.True(v.GetProperty("dataBytesPerStoreDay").GetDouble() > 0, output);
        Assert.Equal(2, v.GetProperty("catchUpSeconds").GetArrayLength());
        Assert.Contains("a store's files grew", output, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(report, "report.html"), Ct);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("14 days offline", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_clocks_fall_on_stores_in_this_process_by_the_schedule_and_on_the_process_stores_through_their_machine_clock()
    {
        var span = TimeSpan.FromHours(2);
        var processes = FaultSchedule.Killable(40, 2);
        var clocks = FaultSchedule.Clocks(1, 40, span, processes);
        Assert.Equal(clocks, FaultSchedule.Clocks(1, 40, span, processes));
        Assert.All(clocks, c => Assert.DoesNotContain(c.Store, processes));
        Assert.Equal(2, clocks.Count(c => c.Kind == FaultKind.ClockAhead));
        Assert.Equal(2, clocks.Count(c => c.Kind == FaultKind.ClockBehind));
        Assert.Equal(2, clocks.Count(c => c.Kind == FaultKind.ClockJumpBack));
        Assert.All(clocks.Where(c => c.Kind == FaultKind.ClockJumpBack), c => Assert.InRange(c.Start, TimeSpan.Zero, span * 0.9));

        // The stores run as processes: the first ahead all span, the second jumping back mid-span (libfaketime).
        var processClocks = FaultSchedule.ProcessClocks(1, processes, span);
        Assert.Equal(processClocks, FaultSchedule.ProcessClocks(1, processes, span));
        Assert.Equal([FaultKind.ClockAhead, FaultKind.ClockJumpBack], processClocks.Select(c => c.Kind));
        Assert.All(processClocks, c => Assert.Contains(c.Store, processes));
        Assert.InRange(processClocks[1].Start, span * 0.3, span * 0.7);
    }

    [Fact]
    public void HQ_s_faults_come_from_the_seed_and_spare_the_node_lost_for_good()
    {
        var span = TimeSpan.FromHours(24);
        var faults = FaultSchedule.HqFaults(5, 3, span, kills: 12, restarts: 3, loseNode: true);
        Assert.Equal(faults, FaultSchedule.HqFaults(5, 3, span, kills: 12, restarts: 3, loseNode: true));
        Assert.NotEqual(faults, FaultSchedule.HqFaults(6, 3, span, kills: 12, restarts: 3, loseNode: true));

        var lost = Assert.Single(faults, f => f.Kind == FaultKind.HqNodeLost);
        Assert.Equal(2, lost.Store);
        Assert.InRange(lost.Start, span * 0.4, span * 0.7);
        var kills = faults.Where(f => f.Kind == FaultKind.HqKill).ToList();
        Assert.Equal(12, kills.Count);
        Assert.Equal([0, 1], kills.Select(k => k.Store).Distinct().Order());
        Assert.All(kills, k => Assert.InRange(k.Duration, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(2)));
        var restarts = faults.Where(f => f.Kind == FaultKind.PostgresRestart).ToList();
        Assert.Equal(3, restarts.Count);
        Assert.All(faults.Where(f => f.Kind != FaultKind.HqNodeLost), f => Assert.InRange(f.Start, TimeSpan.Zero, span * 0.9));

        // One node: no node to lose, every kill on it.
        Assert.All(FaultSchedule.HqFaults(5, 1, span, kills: 4, restarts: 0, loseNode: true), f => Assert.Equal((FaultKind.HqKill, 0), (f.Kind, f.Store)));
    }

    [Fact]
    public async Task A_fleet_over_two_HQ_nodes_sharing_PostgreSQL_converges_through_node_kills_a_database_crash_and_a_node_lost_for_good()
    {
        // HQ's nodes run as processes of their own: two SIGKILLs of the first node (its stores fail over to the other
        // and back), PostgreSQL crashed and restarted under load, the second node lost for good halfway; price changes
        // are published on each node in turn.
        var report = Path.Combine(_directory, "report-pg");
        var (exit, output) = await RunAsync("simulate", "--hq", "postgres", "--stores", "6", "--devices-per-store", "2", "--process-stores", "1", "--kills", "2", "--hours", "1", "--seed", "3",
            "--report", report, "--data", Path.Combine(_directory, "data-pg"));
        Assert.True(exit == 0, output);
        using var verdict = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(report, "verdict.json"), Ct));
        var v = verdict.RootElement;
        Assert.Equal("postgres", v.GetProperty("hq").GetString());
        Assert.Equal(2, v.GetProperty("hqNodes").GetInt32());
        Assert.Equal(0, v.GetProperty("lost").GetInt32());
        Assert.Equal(0, v.GetProperty("doubled").GetInt32());
        Assert.Equal(6, v.GetProperty("converged").GetInt32());
        Assert.Equal(3, v.GetProperty("kills").GetInt32()); // two, and one to damage a record of the process store's log
        Assert.Equal((1, 0, 0), (v.GetProperty("damagedRecords").GetInt32(), v.GetProperty("damagedAtHq").GetInt32(), v.GetProperty("damagedUnreported").GetInt32()));
        var faults = v.GetProperty("faults");
        Assert.Equal(2, faults.GetProperty("HqKill").GetInt32());
        Assert.Equal(1, faults.GetProperty("PostgresRestart").GetInt32());
        Assert.Equal(1, faults.GetProperty("HqNodeLost").GetInt32());
        Assert.Contains("hq2 lost for good", output, StringComparison.Ordinal);
        Assert.Equal(3, v.GetProperty("hqRecoverySeconds").GetArrayLength());
        Assert.True(v.GetProperty("hqCpuSeconds").GetDouble() > 0, output);
        Assert.True(v.GetProperty("hqPeakMiB").GetDouble() > 20, output);
        Assert.True(v.GetProperty("pricesPublished").GetInt32() > 23, output);
        Assert.Contains("HQ's CPU", await File.ReadAllTextAsync(Path.Combine(report, "report.html"), Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite", "lose-one-sale", "lost")]
    [InlineData("sqlite", "double-one-sale", "doubled")]
    [InlineData("postgres", "lose-one-sale", "lost")]
    [InlineData("sqlite", "double-one-order", "ordersDoubled")]
    [InlineData("sqlite", "lose-one-stand-in-sale", "lost")]
    public async Task The_checker_catches_a_sale_HQ_lost_or_applied_twice(string hq, string defect, string counted)
    {
        var report = Path.Combine(_directory, "report-" + hq + defect);
        // No store processes here (kills are the other tests'): what is checked is that the checker sees the damage.
        string[] noHqFaults = hq == "postgres" ? ["--hq-kills", "0", "--postgres-restarts", "0", "--lose-node", "false"] : [];
        string[] standIns = defect.Contains("stand-in", StringComparison.Ordinal) ? ["--stand-ins", "20"] : [];
        var (exit, output) = await RunAsync(["simulate", "--hq", hq, .. noHqFaults, "--stores", "4", "--devices-per-store", "2", "--process-stores", "0", .. standIns, "--hours", "0.5", "--seed", "9", "--report", report, "--inject", defect,
            "--data", Path.Combine(_directory, "data-" + hq + defect)]);
        Assert.True(exit == 1, output);
        Assert.Contains("VERDICT: FAILED (seed 9). Replay: outpost simulate", output, StringComparison.Ordinal);
        Assert.Contains("--stores 4 --devices-per-store 2 --process-stores 0 --kills 6", output, StringComparison.Ordinal);
        using var verdict = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(report, "verdict.json"), Ct));
        Assert.Equal(1, verdict.RootElement.GetProperty(counted).GetInt32());
        Assert.False(verdict.RootElement.GetProperty("passed").GetBoolean());
    }

    [Theory]
    [InlineData("lose-one-sale, lose-one-stand-in-sale, double-one-sale, double-one-order", "--inject", "lose-everything")]
    [InlineData("--offline-days is 1 to 60", "--offline-days", "61")]
    [InlineData("--stores", "--stores", "0")]
    [InlineData("damaged records need a process store", "--damaged-records", "1", "--process-stores", "0")]
    [InlineData("--previous-release a share from 0 to 1", "--previous-release", "1.5")]
    [InlineData("--hours and --days are two ways to say the span: give one of them", "--hours", "6", "--days", "1")]
    [InlineData("--hours and --seconds-per-hour more than 0", "--days", "0")]
    [InlineData("postgres (one or more nodes sharing the database)", "--hq-nodes", "2")]
    [InlineData("need --hq postgres", "--hq-kills", "1")]
    [InlineData("--lose-node needs --hq-nodes 2 or more", "--hq", "postgres", "--hq-nodes", "1", "--lose-node", "true")]
    public async Task Bad_arguments_are_refused_with_what_is_wrong(string says, params string[] arguments)
    {
        var (exit, output) = await RunAsync(["simulate", .. arguments]);
        Assert.Equal(2, exit);
        Assert.Contains(says, output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await OutpostCommand.RunAsync(args, output, Ct);
        return (exit, output.ToString());
    }
}
