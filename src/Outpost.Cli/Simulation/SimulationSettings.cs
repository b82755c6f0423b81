using System.Globalization;

namespace Outpost.Cli.Simulation;

/// <summary>What <c>outpost simulate</c> runs: the fleet, the span, the seed, and how fast simulated time passes.</summary>
internal sealed record SimulationSettings
{
    /// <summary>Stores, each a real store server (its own SQLite log, replication agent, checkout) behind a link of its own.</summary>
    public int Stores { get; init; } = 40;

    /// <summary>Tills per store, each an enrolled device selling through the store's API.</summary>
    public int DevicesPerStore { get; init; } = 4;

    /// <summary>The simulated span, in hours.</summary>
    public double Hours { get; init; } = 2;

    /// <summary>HQ's database: sqlite (one node) or postgres (a throwaway local PostgreSQL server, several nodes sharing it).</summary>
    public string Hq { get; init; } = "sqlite";

    /// <summary>HQ nodes; the stores are spread over them in turn, as behind a load balancer.</summary>
    public int HqNodes { get; init; } = 1;

    /// <summary>Stores that run as processes of their own (<c>outpost store</c>), to be killed with SIGKILL.</summary>
    public int ProcessStores { get; init; } = 2;

    /// <summary>SIGKILLs over the span, spread over the <see cref="ProcessStores"/> in turn.</summary>
    public int Kills { get; init; } = 6;

    /// <summary>Records damaged on disk in the process stores' logs (<see cref="FaultKind.DamagedRecord"/>).</summary>
    public int DamagedRecords { get; init; } = 1;

    /// <summary>Protocol-faithful stand-in stores beyond <see cref="Stores"/> (<see cref="StandInStore"/>), in processes of their own.</summary>
    public int StandIns { get; init; }

    /// <summary>SIGKILLs of the stand-ins' processes over the span (each takes every store in it down at once).</summary>
    public int StandInKills { get; init; }

    /// <summary>SIGKILLs of HQ nodes over the span (HQ on PostgreSQL, whose nodes run as processes of their own).</summary>
    public int HqKills { get; init; }

    /// <summary>Crashes of HQ's PostgreSQL server over the span, each followed by a restart on the same files.</summary>
    public int PostgresRestarts { get; init; }

    /// <summary>Whether one HQ node is lost for good during the span (two nodes or more), the others carrying its stores.</summary>
    public bool LoseNode { get; init; }

    /// <summary>Whether some stores' clocks are wrong (hours ahead, behind, jumping back): <see cref="FaultSchedule.Clocks"/>.</summary>
    public bool ClockFaults { get; init; } = true;

    /// <summary>
    /// The share of stores (real ones and stand-ins alike) on the previous release's event versions: they write
    /// <c>SaleCompleted</c> v1 (<see cref="Outpost.Retail.Checkout.EventVersions.Previous"/>), the others v2.
    /// </summary>
    public double PreviousReleaseShare { get; init; } = 0.25;

    /// <summary>Whether store <paramref name="index"/> is on the previous release: spread evenly over the fleet (golden-ratio steps), the same for a seed or none.</summary>
    public bool OnPreviousRelease(int index) => index * 0.6180339887498949 % 1 < PreviousReleaseShare;

    /// <summary>The event versions store <paramref name="index"/> writes.</summary>
    public Outpost.Retail.Checkout.EventVersions EventVersionsOf(int index) =>
        OnPreviousRelease(index) ? Outpost.Retail.Checkout.EventVersions.Previous : Outpost.Retail.Checkout.EventVersions.Current;

    /// <summary>The seed of the fault schedule, the sales and the price changes.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A store's sales over a whole day, spread by <see cref="DailyCurve"/>.</summary>
    public int SalesPerDay { get; init; } = 600;

    /// <summary>Real seconds a simulated hour takes.</summary>
    public double SecondsPerHour { get; init; } = 20;

    /// <summary>Where the verdict (JSON) and the report (HTML) go; null: the data folder.</summary>
    public string? ReportDirectory { get; init; }

    /// <summary>Where HQ's and the stores' files go; null: a new temp folder, deleted after a run that passed.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>A defect injected after the run, before the check, to show the checker catches it: lose-one-sale, double-one-sale or double-one-order.</summary>
    public string? Inject { get; init; }

    /// <summary>The simulated moment the span starts (UTC): Europe's lunch peak.</summary>
    public static DateTimeOffset Start { get; } = new(2026, 12, 7, 11, 0, 0, TimeSpan.Zero);

    public TimeSpan Span => TimeSpan.FromHours(Hours);

    /// <summary>Simulated seconds per real second.</summary>
    public double Speed => 3600 / SecondsPerHour;

    /// <summary>The command that runs this configuration again.</summary>
    public string Command => string.Create(CultureInfo.InvariantCulture,
        $"outpost simulate{(Hq == "sqlite" ? "" : $" --hq {Hq} --hq-nodes {HqNodes} --hq-kills {HqKills} --postgres-restarts {PostgresRestarts} --lose-node {(LoseNode ? "true" : "false")}")} --stores {Stores} --devices-per-store {DevicesPerStore} --process-stores {ProcessStores} --kills {Kills}{(DamagedRecords == Math.Min(1, ProcessStores) ? "" : $" --damaged-records {DamagedRecords}")}{(StandIns == 0 ? "" : $" --stand-ins {StandIns} --stand-in-kills {StandInKills}")} --hours {Hours} --sales-per-day {SalesPerDay} --seconds-per-hour {SecondsPerHour} --seed {Seed}{(ClockFaults ? "" : " --clock-faults false")}{(PreviousReleaseShare == 0.25 ? "" : $" --previous-release {PreviousReleaseShare}")}{(Inject is null ? "" : " --inject " + Inject)}");
}
