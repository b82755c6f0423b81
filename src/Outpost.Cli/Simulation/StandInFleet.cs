using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Outpost.Cli.Simulation;

/// <summary>
/// The simulation's side of the stand-in stores (<see cref="StandInStore"/>): registers them with HQ, spreads them over
/// processes of their own (<c>outpost simulate stand-ins</c>; a process holds at most 20,000 open files here, and each
/// store keeps its log's files open, and a connection to HQ during its round), tells them when the span starts, SIGKILLs those processes
/// on the schedule (every store in one crashes at once) and starts them again on the same files, and at the end kills
/// them once more so the checker opens each log file as a crash left it.
/// </summary>
internal sealed class StandInFleet : IAsyncDisposable
{
    /// <summary>Stores one process runs at most: several open files each (its log's, its readers'), and a connection during its round.</summary>
    public const int PerProcess = 1500;

    private readonly List<ServerProcess> _processes = [];
    private readonly List<HttpClient> _status = [];
    private readonly string _spanStartFile;

    private StandInFleet(IReadOnlyList<StandInSpec> stores, string directory)
    {
        Stores = stores;
        Directory = directory;
        _spanStartFile = Path.Combine(directory, "span-start");
    }

    public IReadOnlyList<StandInSpec> Stores { get; }

    /// <summary>Where their log files are.</summary>
    public string Directory { get; }

    public int Processes => _processes.Count;

    private int _kills;

    /// <summary>SIGKILLs of stand-in processes so far.</summary>
    public int Kills => Volatile.Read(ref _kills);

    /// <summary>CPU of the stand-in processes over all their lives.</summary>
    public double CpuSeconds => _processes.Sum(p => p.CpuTime.TotalSeconds);

    /// <summary>
    /// Registers <paramref name="count"/> stand-ins (fleet indices from <paramref name="first"/>) with HQ, writes each
    /// process's plan and starts the processes; returns once every one answers.
    /// </summary>
    public static async Task<StandInFleet> StartAsync(SimulationSettings settings, SimulatedHq hq, int first, int count, IReadOnlyList<Fault> faults, string directory,
        Func<int, string> region, Func<int, string> zone, TextWriter output, CancellationToken cancellationToken)
    {
        var standIns = Path.Combine(directory, "stand-ins");
        System.IO.Directory.CreateDirectory(standIns);
        var specs = new StandInSpec[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (j, ct) =>
        {
            var i = first + j;
            var id = SimulatedStore.StoreId(i);
            specs[j] = new StandInSpec(id, i, region(i), zone(i), await hq.RegisterAsync(id, region(i), ct), i % hq.Nodes, settings.EventVersionsOf(i));
        });

        var fleet = new StandInFleet(specs, standIns);
        var nodes = Enumerable.Range(0, hq.Nodes).Select(hq.Address).ToList();
        var processes = (count + PerProcess - 1) / PerProcess;
        for (var p = 0; p < processes; p++)
        {
            var mine = specs.Where((_, j) => j % processes == p).ToList();
            var indices = mine.Select(s => s.Index).ToHashSet();
            var plan = new StandInPlan(settings.Seed, SimulationSettings.Start, settings.Speed, settings.Hours, settings.SalesPerDay, nodes, standIns, fleet._spanStartFile,
                mine, [.. faults.Where(f => indices.Contains(f.Store))]);
            var planPath = Path.Combine(standIns, $"plan-{p}.json");
            await File.WriteAllTextAsync(planPath, JsonSerializer.Serialize(plan, SimulationJsonContext.Default.StandInPlan), cancellationToken);
            var address = new Uri($"http://127.0.0.1:{Bench.OutpostProcess.FreePort()}/");
            fleet._status.Add(new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) });
            fleet._processes.Add(new ServerProcess(["simulate", "stand-ins", "--plan", planPath, "--urls", address.ToString().TrimEnd('/')],
                new Dictionary<string, string>(), address, Path.Combine(standIns, $"stand-ins-{p}.log"))
            {
                // Opening 1,500 logs and a first round for each (HQ's catalog), on two cores that HQ and every other
                // process share, after a kill when HQ's node is catching up too: minutes, not seconds.
                ReadyWithin = TimeSpan.FromMinutes(15),
            });
        }

        await Task.WhenAll(fleet._processes.Select(p => p.StartAsync(cancellationToken)));
        output.WriteLine($"  {count:N0} stand-in stores up in {processes} process(es) of their own");
        return fleet;
    }

    /// <summary>The span starts now: the stand-ins' tills begin.</summary>
    public Task SpanStartedAsync(DateTimeOffset at, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(_spanStartFile, at.ToString("O", CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>Every process's status together; a process that is down counts all its stores as not online.</summary>
    public async Task<StandInStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var statuses = await Task.WhenAll(_status.Select(async http =>
        {
            try
            {
                return await http.GetFromJsonAsync("/status", SimulationJsonContext.Default.StandInStatus, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }));
        var down = statuses.Count(s => s is null);
        var up = statuses.OfType<StandInStatus>().ToList();
        return new StandInStatus(Stores.Count, up.Sum(s => s.Planned), up.Sum(s => s.Appended), up.Sum(s => s.NotOnline) + (down > 0 ? Stores.Count - up.Sum(s => s.Stores) : 0),
            up.Sum(s => s.UpBacklog), up.Sum(s => s.DownLag), [.. up.SelectMany(s => s.Unsettled).Take(5), .. down > 0 ? [$"{down} stand-in process(es) down"] : Array.Empty<string>()]);
    }

    /// <summary>SIGKILLs of stand-in processes at their moments (<see cref="Fault.Store"/> is the process), each started again after the kill's length.</summary>
    public async Task KillsAsync(IReadOnlyList<Fault> kills, Func<TimeSpan, TimeSpan> realAt, System.Diagnostics.Stopwatch clock, CancellationToken cancellationToken)
    {
        await Task.WhenAll(kills.GroupBy(k => k.Store).Select(async group =>
        {
            var process = _processes[group.Key % _processes.Count];
            foreach (var kill in group.OrderBy(k => k.Start))
            {
                await FleetSimulation.AtAsync(clock, realAt(kill.Start), cancellationToken);
                await process.KillAsync();
                Interlocked.Increment(ref _kills);
                await Task.Delay(realAt(kill.Duration), cancellationToken);
                await process.StartAsync(cancellationToken);
            }
        }));
    }

    /// <summary>SIGKILLs every process one last time: the checker opens each store's log as a crash left it.</summary>
    public async Task StopAsync()
    {
        foreach (var process in _processes)
        {
            await process.KillAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var http in _status)
        {
            http.Dispose();
        }

        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }
}
