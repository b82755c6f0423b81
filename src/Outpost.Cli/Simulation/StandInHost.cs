using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Outpost.Sync.Agent;

namespace Outpost.Cli.Simulation;

/// <summary>
/// What a stand-ins process runs: the stores of its plan, the span's schedule, and where HQ's nodes are.
/// <paramref name="SpanStartFile"/>: the file the simulation writes the span's real start into once the span starts
/// (a process started again after a SIGKILL reads it at once).
/// </summary>
internal sealed record StandInPlan(int Seed, DateTimeOffset Start, double Speed, double SpanHours, int SalesPerDay, IReadOnlyList<Uri> Nodes, string Directory,
    string SpanStartFile, IReadOnlyList<StandInSpec> Stores, IReadOnlyList<Fault> Faults);

/// <summary>What a stands-ins process says of its stores (<c>GET /status</c>).</summary>
/// <param name="Stores">Its stores.</param>
/// <param name="Planned">Sales the schedule gives them over the span.</param>
/// <param name="Appended">Sales in their logs: acknowledged to their tills.</param>
/// <param name="NotOnline">Stores whose link is degraded or offline.</param>
/// <param name="UpBacklog">Their events waiting to go up, together.</param>
/// <param name="DownLag">HQ's events they have not received yet, together (as of each one's last answer).</param>
/// <param name="Unsettled">Up to five stores not settled yet, and why.</param>
internal sealed record StandInStatus(int Stores, int Planned, int Appended, int NotOnline, long UpBacklog, long DownLag, IReadOnlyList<string> Unsettled)
{
    public bool Settled => Appended == Planned && NotOnline == 0 && UpBacklog == 0 && DownLag == 0;
}

/// <summary>
/// The child's side of the stand-in fleet (<c>outpost simulate stand-ins</c>): opens its stores, serves its status, and
/// runs passes over them (each store sells what its till made since its last turn and runs a replication round) until
/// it is killed.
/// </summary>
internal static class StandInHost
{
    /// <summary>How often, in simulated time, each stand-in sells and replicates: its round (when the host keeps up).</summary>
    public static TimeSpan Round { get; } = TimeSpan.FromMinutes(5);

    /// <summary>Stores whose turn runs at once in a pass.</summary>
    private const int PassParallelism = 32;

    public static async Task<int> RunAsync(TextWriter output, string planPath, string urls, CancellationToken cancellationToken)
    {
        var plan = JsonSerializer.Deserialize(await File.ReadAllTextAsync(planPath, cancellationToken), SimulationJsonContext.Default.StandInPlan)
            ?? throw new InvalidOperationException($"{planPath} holds no plan.");
        DateTimeOffset? spanStart = null;
        TimeSpan? SimulatedNow() => spanStart is { } s ? (DateTimeOffset.UtcNow - s) * plan.Speed : null;
        var faults = plan.Faults.ToLookup(f => f.Store);
        var span = TimeSpan.FromHours(plan.SpanHours);
        var stores = new StandInStore[plan.Stores.Count];
        var times = plan.Stores.Select(s => (IReadOnlyList<TimeSpan>)DailyCurve.SaleTimes(plan.Seed, s.Index, s.Zone, plan.Start, span, plan.SalesPerDay)).ToArray();
        var planned = times.Sum(t => t.Count);
        // One pool of connections to HQ for all the process's stores, kept open between their rounds: a store's
        // credential is a header of each request, so they can share. A connection each, opened for a round and closed
        // a second after, kept 11,000-13,000 sockets in TIME-WAIT across the stand-in processes and a third of the CPU
        // in the kernel at 20,000 stores. At most as many connections to a node as rounds may run at once here, two
        // requests each (MaxInFlight).
        using var connections = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            MaxConnectionsPerServer = 2 * PassParallelism,
        };
        await Parallel.ForAsync(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var spec = plan.Stores[i];
            stores[i] = await StandInStore.OpenAsync(spec, plan.Directory, new StandInLink(plan.Nodes, spec.Home, [.. faults[spec.Index]], SimulatedNow), connections, ct);
        });

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        await using var app = builder.Build();
        var warm = 0;
        app.MapGet("/health/ready", () => Volatile.Read(ref warm) == stores.Length
            ? Results.Text($"ready: {stores.Length} stand-in stores")
            : Results.Text($"warming: {Volatile.Read(ref warm)} of {stores.Length} stand-in stores have had their first round", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/status", () =>
        {
            var statuses = stores.Select(s => (Store: s, Status: s.Monitor.Current)).ToList();
            var unsettled = statuses.Where(s => s.Status.State != ConnectivityState.Online || s.Status.UpBacklog > 0 || s.Status.DownLag > 0)
                .Take(5).Select(s => $"{s.Store.Spec.Id}: {s.Status.State}, up backlog {s.Status.UpBacklog}, down lag {s.Status.DownLag}: {s.Status.LastError}").ToList();
            return TypedResults.Json(new StandInStatus(stores.Length, planned, stores.Sum(s => s.Appended), statuses.Count(s => s.Status.State != ConnectivityState.Online),
                statuses.Sum(s => s.Status.UpBacklog), statuses.Sum(s => s.Status.DownLag), unsettled), SimulationJsonContext.Default.StandInStatus);
        });
        await app.StartAsync(cancellationToken);
        output.WriteLine($"stand-ins: {stores.Length} stores open, {planned} sales planned");

        // A first round for every store before the process says it is ready, as a store server takes HQ's catalog
        // before its tills open: the span then starts on stores that hold it, not on thousands asking at once while
        // the real stores' tills sell (20,000 stores did that in the first pass of the span, and starved the machine).
        // Eight at a time: what a process that shares two cores with HQ can run without stealing HQ's.
        var warming = System.Diagnostics.Stopwatch.StartNew();
        await Parallel.ForAsync(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            await stores[i].RoundAsync(ct);
            Interlocked.Increment(ref warm);
        });
        output.WriteLine($"stand-ins: first round over {stores.Length} stores took {warming.Elapsed.TotalSeconds:F1} s");

        // The span starts when the simulation says so (a process started again after a kill reads it at once).
        while (!File.Exists(plan.SpanStartFile))
        {
            await Task.Delay(100, cancellationToken);
        }

        spanStart = DateTimeOffset.Parse(await File.ReadAllTextAsync(plan.SpanStartFile, cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        TimeSpan SoldBy() => SimulatedNow() is { } now && now < span ? now : span;

        // Passes over the stores, one every Round of simulated time (or back to back when a pass takes longer): in each,
        // every store appends the sales its till made since its last turn, then runs one replication round. After the
        // span the passes go on, so every store catches up once its link is back and takes what HQ published last.
        var round = Round / plan.Speed;
        for (var pass = 1; !cancellationToken.IsCancellationRequested; pass++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var failed = 0;
            await Parallel.ForAsync(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = PassParallelism, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                await stores[i].SellUntilAsync(times[i], plan.Start, SoldBy(), ct);
                if (!await stores[i].RoundAsync(ct))
                {
                    Interlocked.Increment(ref failed);
                }
            });
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (pass % 20 == 1)
            {
                output.WriteLine($"stand-ins: pass {pass} over {stores.Length} stores at {SimulatedNow()?.TotalHours:F2} simulated hours took {took.TotalSeconds:F1} s; {failed} round(s) failed on their link");
            }

            if (round > took)
            {
                await Task.Delay(round - took, cancellationToken);
            }
        }

        return 0;
    }
}
