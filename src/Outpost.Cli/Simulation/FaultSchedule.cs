namespace Outpost.Cli.Simulation;

/// <summary>What a fault does to a store's link to HQ (each one is a mode of <see cref="Outpost.Sync.Faults.FaultProxy"/>).</summary>
internal enum FaultKind
{
    /// <summary>The link is down: open connections reset, new ones refused.</summary>
    Outage,

    /// <summary>A dead route: connections accepted, never answered.</summary>
    Blackhole,

    /// <summary>Up and down every few hundred milliseconds.</summary>
    Flapping,

    /// <summary>Connections dropped after a random number of bytes, mid-request or mid-response.</summary>
    DropMidStream,

    /// <summary>A slow, throttled link: 200 ms added per chunk, 16 KB/s each way.</summary>
    SlowLink,

    /// <summary>Down from the start of the simulated span to its end: the store catches up only after it.</summary>
    OfflineAllSpan,

    /// <summary>The store's process killed with SIGKILL, down for the fault's length, then started again on the same files.</summary>
    Kill,

    /// <summary>An HQ node's process killed with SIGKILL, down for the fault's length, then started again; its stores fail over meanwhile.</summary>
    HqKill,

    /// <summary>An HQ node killed with SIGKILL and never started again: its machine is gone; the other nodes carry its stores.</summary>
    HqNodeLost,

    /// <summary>The store's wall clock is hours ahead all span (<see cref="FaultSchedule.ClockAhead"/>).</summary>
    ClockAhead,

    /// <summary>The store's wall clock is hours behind all span (<see cref="FaultSchedule.ClockBehind"/>).</summary>
    ClockBehind,

    /// <summary>The store's wall clock jumps back (<see cref="FaultSchedule.ClockJump"/>) at the fault's start and stays there.</summary>
    ClockJumpBack,

    /// <summary>
    /// A record of the store's log damaged on disk: the store's link is cut, its tills go on selling, its process is
    /// SIGKILLed, one bit of a sale HQ does not hold yet is flipped in its file (its checksum no longer matches), and the
    /// store starts again; its link returns after the fault's length. The sale must never reach HQ, every other must.
    /// </summary>
    DamagedRecord,

    /// <summary>HQ's PostgreSQL server crashes (immediate stop: no checkpoint, every connection cut), stays down for the fault's length, and recovers from its WAL.</summary>
    PostgresRestart,
}

/// <summary>One fault, in simulated time from the start of the span: on a store (<see cref="Store"/>), or on HQ (<see cref="Store"/> is then the node; -1 for the database).</summary>
internal sealed record Fault(int Store, TimeSpan Start, TimeSpan Duration, FaultKind Kind)
{
    public TimeSpan End => Start + Duration;
}

/// <summary>
/// The faults of a simulated span, drawn from a seed: the same seed, fleet and span always give the same schedule.
/// Each store's faults follow each other without overlapping, about one every two simulated hours; their lengths
/// are heavy-tailed (Pareto, shape 1.1, from 20 s): most last seconds to minutes, a few hours. One store in a hundred
/// (at least one in a fleet of 20 or more) is offline for the whole span.
/// </summary>
internal static class FaultSchedule
{
    private static readonly (FaultKind Kind, double Weight)[] Kinds =
        [(FaultKind.Outage, 0.45), (FaultKind.Blackhole, 0.15), (FaultKind.Flapping, 0.15), (FaultKind.DropMidStream, 0.15), (FaultKind.SlowLink, 0.10)];

    /// <summary>The kinds of fault <see cref="Create"/> puts on stores' links.</summary>
    public static IReadOnlyList<FaultKind> LinkKinds { get; } = [.. Kinds.Select(k => k.Kind), FaultKind.OfflineAllSpan];

    /// <summary>Mean simulated time between the end of one fault on a store's link and the start of the next.</summary>
    public static TimeSpan MeanGap { get; } = TimeSpan.FromHours(2);

    /// <summary>The shortest fault.</summary>
    public static TimeSpan Shortest { get; } = TimeSpan.FromSeconds(20);

    public static IReadOnlyList<Fault> Create(int seed, int stores, TimeSpan span)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stores, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(span, TimeSpan.Zero);
        var faults = new List<Fault>();
        var allSpan = stores >= 20 ? Math.Max(1, stores / 100) : 0;
        var offlineAllSpan = Enumerable.Range(0, allSpan).Select(i => i * stores / allSpan + stores / allSpan / 2).ToHashSet();
        for (var store = 0; store < stores; store++)
        {
            // One generator per store, from the seed and the store: adding stores does not change the others' faults.
            var random = new Random(StableSeed.Of(seed, store, 0x51ed));
            if (offlineAllSpan.Contains(store))
            {
                faults.Add(new Fault(store, TimeSpan.Zero, span, FaultKind.OfflineAllSpan));
                continue;
            }

            var at = Exponential(random, MeanGap);
            while (at < span)
            {
                var length = Pareto(random, Shortest, 1.1);
                if (at + length > span)
                {
                    length = span - at;
                }

                faults.Add(new Fault(store, at, length, Pick(random)));
                at += length + Exponential(random, MeanGap);
            }
        }

        return faults;
    }

    /// <summary>Which stores run as processes of their own (to be killed): <paramref name="count"/> of them, spread over the fleet.</summary>
    public static IReadOnlySet<int> Killable(int stores, int count) =>
        count <= 0 ? new HashSet<int>() : Enumerable.Range(0, count).Select(i => (i * stores / count + stores / count / 3) % stores).ToHashSet();

    /// <summary>
    /// <paramref name="count"/> SIGKILLs over the killable stores in turn, at moments drawn from the seed over the first
    /// 90 % of the span; each keeps the store down 10 s to 2 min of simulated time.
    /// </summary>
    public static IReadOnlyList<Fault> Kills(int seed, IReadOnlySet<int> killable, TimeSpan span, int count)
    {
        var random = new Random(StableSeed.Of(seed, 0x6b111));
        var stores = killable.Order().ToList();
        return count <= 0 || stores.Count == 0 ? []
            : [.. Enumerable.Range(0, count).Select(k => new Fault(stores[k % stores.Count], span * 0.9 * random.NextDouble(), TimeSpan.FromSeconds(10 + random.Next(110)), FaultKind.Kill))];
    }

    /// <summary>
    /// <paramref name="count"/> damaged records, on the killable stores from the last one back (the first ones carry the
    /// process clocks), each between two of that store's planned sales (<paramref name="plans"/>, by fleet index) drawn
    /// from the seed, after 30 % of the span and with at least two more sales planned after it: the fault damages a sale
    /// the tills make once the link is cut, so one must come (a store in its quiet night may sell nothing for an hour).
    /// Each keeps the store's link cut for 2 to 5 minutes of simulated time after its restart. A store with too few
    /// sales planned gets none.
    /// </summary>
    public static IReadOnlyList<Fault> DamagedRecords(int seed, IReadOnlySet<int> killable, TimeSpan span, int count, IReadOnlyList<IReadOnlyList<TimeSpan>> plans)
    {
        var random = new Random(StableSeed.Of(seed, 0xda3a6e));
        var stores = killable.OrderDescending().ToList();
        var faults = new List<Fault>();
        for (var k = 0; k < count && stores.Count > 0; k++)
        {
            var store = stores[k % stores.Count];
            var plan = plans[store];
            // The fault falls between sales i - 1 and i; i + 1 is planned too, so a sale its till has had the answer for
            // still comes after the cut when the fault and sale i race (the fault waits for such a sale).
            var after = Enumerable.Range(1, Math.Max(0, plan.Count - 2)).Where(i => plan[i - 1] >= span * 0.3 && plan[i] <= span * 0.8).ToList();
            // Drawn for every store, with a fault or not: the seed's stream, so every other draw, stays the same whatever the plans are.
            var duration = TimeSpan.FromSeconds(120 + random.Next(180));
            if (after.Count > 0)
            {
                var i = after[random.Next(after.Count)];
                faults.Add(new Fault(store, plan[i - 1] + (plan[i] - plan[i - 1]) / 2, duration, FaultKind.DamagedRecord));
            }
        }

        return faults;
    }

    /// <summary>How far ahead a store's clock with <see cref="FaultKind.ClockAhead"/> is.</summary>
    public static TimeSpan ClockAhead { get; } = TimeSpan.FromHours(3);

    /// <summary>How far behind a store's clock with <see cref="FaultKind.ClockBehind"/> is.</summary>
    public static TimeSpan ClockBehind { get; } = TimeSpan.FromHours(-5);

    /// <summary>How far a clock with <see cref="FaultKind.ClockJumpBack"/> jumps.</summary>
    public static TimeSpan ClockJump { get; } = TimeSpan.FromHours(-2);

    /// <summary>
    /// Wrong clocks at stores that run in the simulation's process (a clock is this process's to set, not a child
    /// process's): one store in ten is 3 hours ahead or 5 hours behind, in turn, all span; one in twenty (others)
    /// has its clock jump 2 hours back at a moment drawn from the seed over the first 90 % of the span.
    /// </summary>
    public static IReadOnlyList<Fault> Clocks(int seed, int stores, TimeSpan span, IReadOnlySet<int> processes)
    {
        var random = new Random(StableSeed.Of(seed, 0xc10c));
        var faults = new List<Fault>();
        for (var store = 0; store < stores; store++)
        {
            if (processes.Contains(store))
            {
                continue;
            }

            if (store % 10 == 5)
            {
                faults.Add(new Fault(store, TimeSpan.Zero, span, store / 10 % 2 == 0 ? FaultKind.ClockAhead : FaultKind.ClockBehind));
            }
            else if (store % 20 == 7)
            {
                var at = span * 0.9 * random.NextDouble();
                faults.Add(new Fault(store, at, span - at, FaultKind.ClockJumpBack));
            }
        }

        return faults;
    }

    /// <summary>
    /// Wrong clocks at the stores run as processes, set on the machine's clock as the process sees it (libfaketime,
    /// <see cref="FakeClock"/>): the first runs <see cref="ClockAhead"/> all span, the second's clock jumps
    /// <see cref="ClockJump"/> at a seeded moment in the middle of the span.
    /// </summary>
    public static IReadOnlyList<Fault> ProcessClocks(int seed, IReadOnlyCollection<int> processes, TimeSpan span)
    {
        var random = new Random(StableSeed.Of(seed, 0xfa4e));
        var ordered = processes.Order().ToList();
        var faults = new List<Fault>();
        if (ordered.Count > 0)
        {
            faults.Add(new Fault(ordered[0], TimeSpan.Zero, span, FaultKind.ClockAhead));
        }

        if (ordered.Count > 1)
        {
            var at = span * (0.3 + 0.4 * random.NextDouble());
            faults.Add(new Fault(ordered[1], at, span - at, FaultKind.ClockJumpBack));
        }

        return faults;
    }

    /// <summary>
    /// HQ's faults, drawn from the seed: <paramref name="kills"/> SIGKILLs of its nodes in turn, each down 10 s to
    /// 2 min of simulated time; <paramref name="restarts"/> crashes of its PostgreSQL server, each down 5 s to 1 min;
    /// all at moments over the first 90 % of the span. With <paramref name="loseNode"/> (and two nodes or more) the
    /// last node is lost for good at a moment between 40 % and 70 % of the span, and the kills fall on the others.
    /// </summary>
    public static IReadOnlyList<Fault> HqFaults(int seed, int nodes, TimeSpan span, int kills, int restarts, bool loseNode)
    {
        var random = new Random(StableSeed.Of(seed, 0x4a0));
        var lost = loseNode && nodes >= 2;
        var killable = lost ? nodes - 1 : nodes;
        var faults = new List<Fault>();
        faults.AddRange(Enumerable.Range(0, kills).Select(k => new Fault(k % killable, span * 0.9 * random.NextDouble(), TimeSpan.FromSeconds(10 + random.Next(110)), FaultKind.HqKill)));
        faults.AddRange(Enumerable.Range(0, restarts).Select(_ => new Fault(-1, span * 0.9 * random.NextDouble(), TimeSpan.FromSeconds(5 + random.Next(55)), FaultKind.PostgresRestart)));
        if (lost)
        {
            faults.Add(new Fault(nodes - 1, span * (0.4 + 0.3 * random.NextDouble()), span, FaultKind.HqNodeLost));
        }

        return faults;
    }

    private static TimeSpan Exponential(Random random, TimeSpan mean) => TimeSpan.FromSeconds(-Math.Log(1 - random.NextDouble()) * mean.TotalSeconds);

    private static TimeSpan Pareto(Random random, TimeSpan shortest, double shape) =>
        TimeSpan.FromSeconds(Math.Min(shortest.TotalSeconds / Math.Pow(1 - random.NextDouble(), 1 / shape), TimeSpan.FromDays(1).TotalSeconds));

    private static FaultKind Pick(Random random)
    {
        var x = random.NextDouble();
        foreach (var (kind, weight) in Kinds)
        {
            if ((x -= weight) < 0)
            {
                return kind;
            }
        }

        return FaultKind.Outage;
    }
}
