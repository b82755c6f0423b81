namespace Outpost.Cli.Simulation;

/// <summary>What a simulation proved, written as <c>verdict.json</c>; <see cref="Passed"/> only when nothing was lost or doubled and every store converged.</summary>
internal sealed record SimulationVerdict
{
    public int Seed { get; init; }

    /// <summary>The command that replays this run (same seed: same schedule of sales, price changes and faults).</summary>
    public string Command { get; init; } = "";

    public int Stores { get; init; }

    /// <summary>HQ's database and how many nodes served the fleet.</summary>
    public string Hq { get; init; } = "";

    public int HqNodes { get; init; }

    public int DevicesPerStore { get; init; }

    public double SimulatedHours { get; init; }

    /// <summary>Sales the schedule asked the tills to make.</summary>
    public int Planned { get; init; }

    /// <summary>Sales a till saw completed (the store answered its <c>complete</c>).</summary>
    public int Acknowledged { get; init; }

    /// <summary>Sales, orders and counts a device gave up on after retries while its store's process was up: the store never answered. Must be 0.</summary>
    public int FailedAtDevice { get; init; }

    /// <summary>
    /// Sales a till gave up on because its store's process was down (SIGKILLed, or starting again) while it tried, as
    /// a customer is told "try again" while the store server restarts: apart from <see cref="FailedAtDevice"/>; the
    /// verdict asks <see cref="Acknowledged"/> + these = <see cref="Planned"/>.
    /// </summary>
    public int SalesWhileDown { get; init; }

    /// <summary>Kiosk orders given up on while their store's process was down (as <see cref="SalesWhileDown"/>).</summary>
    public int OrdersWhileDown { get; init; }

    /// <summary>Stock counts given up on while their store's process was down (as <see cref="SalesWhileDown"/>).</summary>
    public int StockCountsWhileDown { get; init; }

    /// <summary>Completed sales in HQ's log (copies counted).</summary>
    public int StoredAtHq { get; init; }

    /// <summary>Acknowledged sales missing at their store or at HQ: must be 0.</summary>
    public int Lost { get; init; }

    public int LostAtHq { get; init; }

    public int LostAtStore { get; init; }

    /// <summary>Extra copies of a sale at HQ: must be 0.</summary>
    public int Doubled { get; init; }

    /// <summary>Records of process stores' logs the schedule asked to damage on disk (<see cref="FaultKind.DamagedRecord"/>).</summary>
    public int DamagedPlanned { get; init; }

    /// <summary>Records damaged: each a sale HQ did not hold yet, acknowledged to its till. They are apart from <see cref="Lost"/>: the disk lost them.</summary>
    public int DamagedRecords { get; init; }

    /// <summary>Damaged sales found at HQ: must be 0 (a damaged record is never replicated).</summary>
    public int DamagedAtHq { get; init; }

    /// <summary>Damaged records their store did not report, on its own status or on HQ's fleet view: must be 0.</summary>
    public int DamagedUnreported { get; init; }

    /// <summary>Kiosk orders the schedule asked for.</summary>
    public int OrdersPlanned { get; init; }

    /// <summary>Orders the store confirmed to its kiosk.</summary>
    public int OrdersAcknowledged { get; init; }

    /// <summary>Orders placed in HQ's log (copies counted).</summary>
    public int OrdersAtHq { get; init; }

    /// <summary>Confirmed orders missing at their store or at HQ: must be 0.</summary>
    public int OrdersLost { get; init; }

    /// <summary>Orders placed twice (a second copy at HQ or at the store, or a second order for one the kiosk sent again): must be 0.</summary>
    public int OrdersDoubled { get; init; }

    /// <summary>Stock counts the schedule asked the handhelds for.</summary>
    public int StockCountsPlanned { get; init; }

    /// <summary>Stock counts the store acknowledged to its handheld.</summary>
    public int StockCountsAcknowledged { get; init; }

    /// <summary>Acknowledged counts missing from their store's log: must be 0 (each store's counts at HQ are checked with convergence).</summary>
    public int StockCountsLost { get; init; }

    /// <summary>Devices' heartbeats in HQ's log (each store's, checked against its own log with convergence).</summary>
    public long Heartbeats { get; init; }

    /// <summary>Stores whose log agrees with HQ's both ways and whose prices are the ones HQ set for them.</summary>
    public int Converged { get; init; }

    public IReadOnlyList<string> NotConverged { get; init; } = [];

    /// <summary>Stores whose sales in HQ's read model differ from a recount of HQ's log: must be none.</summary>
    public IReadOnlyList<string> ReadModelMismatches { get; init; } = [];

    public int PricesPublished { get; init; }

    /// <summary>Faults injected, by kind.</summary>
    public IReadOnlyDictionary<string, int> Faults { get; init; } = new Dictionary<string, int>();

    /// <summary>Protocol-faithful stand-in stores beyond the real store servers (<see cref="StandInStore"/>), apart from <see cref="Stores"/> (the real store servers); their sales are in the sales figures, their convergence in <see cref="Converged"/>.</summary>
    public int StandIns { get; init; }

    /// <summary>Stores (real and stand-ins) on the previous release's event versions: they write SaleCompleted v1.</summary>
    public int PreviousRelease { get; init; }

    /// <summary>Sales at HQ by the version their store wrote (v1: the previous release; v2: this one).</summary>
    public IReadOnlyDictionary<string, int> SalesAtHqByVersion { get; init; } = new Dictionary<string, int>();

    /// <summary>Sales at HQ in a version their store's release does not write (the first 20): must be none.</summary>
    public IReadOnlyList<string> WrongVersion { get; init; } = [];

    /// <summary>Events HQ's read models parked (a version they do not read, say): must be none.</summary>
    public IReadOnlyList<string> ParkedAtHq { get; init; } = [];

    public int StandInProcesses { get; init; }

    /// <summary>SIGKILLs of stand-in processes (each crashes every store in it at once).</summary>
    public int StandInKills { get; init; }

    /// <summary>CPU of the stand-ins' processes over all their lives.</summary>
    public double? StandInCpuSeconds { get; init; }

    /// <summary>SIGKILLs of store processes.</summary>
    public int Kills { get; init; }

    /// <summary>Real seconds from a SIGKILL until the store, started again, was online with nothing waiting: p50, p99, max.</summary>
    public IReadOnlyList<double> KillRecoverySeconds { get; init; } = [];

    /// <summary>As <see cref="KillRecoverySeconds"/>, over the kills during which no fault of the store's link ran: the restart's own recovery.</summary>
    public IReadOnlyList<double> KillRecoveryAloneSeconds { get; init; } = [];

    /// <summary>Percentiles (p50, p99, max) of a killed store process's start: real seconds from starting it again until it answered <c>/health/ready</c>.</summary>
    public IReadOnlyList<double> StartSeconds { get; init; } = [];

    /// <summary>Each SIGKILL of a store process, by the simulated hour of the kill (<see cref="KillRecoverySeconds"/> and <see cref="StartSeconds"/> are their percentiles).</summary>
    public IReadOnlyList<RestartSample> Restarts { get; init; } = [];

    /// <summary>
    /// Real seconds of HQ's recovery from each of its faults, p50, p99 and max: from a node's SIGKILL until it answers
    /// again (its time down included), from PostgreSQL's crash until every node reads it again.
    /// </summary>
    public IReadOnlyList<double> HqRecoverySeconds { get; init; } = [];

    /// <summary>Sales a till scanned again from a new basket because its store lost the basket in a crash.</summary>
    public int SalesStartedAgain { get; init; }

    /// <summary>Real seconds from a fault's end until the store was online with nothing waiting to go up: p50, p99, max.</summary>
    public IReadOnlyList<double> CatchUpSeconds { get; init; } = [];

    /// <summary>
    /// Real seconds from a sale acknowledged to a till until HQ's log held it, while the store and HQ were undisturbed
    /// (no fault on the link, the process or HQ, no catch-up running): p50, p99, max.
    /// </summary>
    public IReadOnlyList<double> UpLatencySeconds { get; init; } = [];

    public int UpLatencySamples { get; init; }

    /// <summary>Real seconds from HQ acknowledging a price change until a till of a store in its scope read it, under the same condition: p50, p99, max.</summary>
    public IReadOnlyList<double> DownLatencySeconds { get; init; } = [];

    public int DownLatencySamples { get; init; }

    /// <summary>Real seconds from the span's end (every link restored) until every store had converged.</summary>
    public double SettleSeconds { get; init; }

    public double RealSeconds { get; init; }

    /// <summary>CPU of the whole process (HQ, every store server, every till): they share it.</summary>
    public double ProcessCpuSeconds { get; init; }

    public double ProcessPeakMiB { get; init; }

    /// <summary>The most files and sockets the simulation's process held open at once (sampled with the fleet), and its limit: past it the run aborts.</summary>
    public int? ProcessPeakOpenFiles { get; init; }

    /// <summary>The process's limit on open files (<c>ulimit -n</c>); null where the system does not say.</summary>
    public int? OpenFilesLimit { get; init; }

    /// <summary>HQ's CPU (its nodes over all their lives, and its database server) when HQ runs in processes of its own; null when it shares the simulation's.</summary>
    public double? HqCpuSeconds { get; init; }

    /// <summary>The peak of HQ's nodes' resident memory together (the database server's apart); null when HQ shares the simulation's process.</summary>
    public double? HqPeakMiB { get; init; }

    public long HqDatabaseBytes { get; init; }

    /// <summary>Bytes through every store's link, both ways.</summary>
    public long WireBytes { get; init; }

    public IReadOnlyList<FleetSample> Samples { get; init; } = [];

    /// <summary>Each catch-up after a link fault of a real store, by the simulated hour the fault ended (<see cref="CatchUpSeconds"/> are their percentiles).</summary>
    public IReadOnlyList<CatchUpSample> CatchUps { get; init; } = [];

    public bool Passed => Lost == 0 && Doubled == 0 && DamagedRecords == DamagedPlanned && DamagedAtHq == 0 && DamagedUnreported == 0 && OrdersLost == 0 && OrdersDoubled == 0 && StockCountsLost == 0 && FailedAtDevice == 0 && Converged == Stores + StandIns
        && ReadModelMismatches.Count == 0 && WrongVersion.Count == 0 && ParkedAtHq.Count == 0 && Acknowledged + SalesWhileDown == Planned && OrdersAcknowledged + OrdersWhileDown == OrdersPlanned && StockCountsAcknowledged + StockCountsWhileDown == StockCountsPlanned;

    public double StoreDays => (Stores + StandIns) * SimulatedHours / 24;
}
