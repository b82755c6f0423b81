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

/// <summary>The child's side of the stand-in fleet (<c>outpost simulate stand-ins</c>): opens its stores, serves its status, sells on the schedule, and runs until it is killed.</summary>
internal static class StandInHost
{
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
        await Parallel.ForAsync(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var spec = plan.Stores[i];
            stores[i] = await StandInStore.StartAsync(spec, plan.Directory, new StandInLink(plan.Nodes, spec.Home, [.. faults[spec.Index]], SimulatedNow), ct);
        });

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        await using var app = builder.Build();
        app.MapGet("/health/ready", () => TypedResults.Text($"ready: {stores.Length} stand-in stores"));
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

        // The span starts when the simulation says so (a process started again after a kill reads it at once).
        while (!File.Exists(plan.SpanStartFile))
        {
            await Task.Delay(100, cancellationToken);
        }

        var start = DateTimeOffset.Parse(await File.ReadAllTextAsync(plan.SpanStartFile, cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        spanStart = start;
        DateTimeOffset RealAt(TimeSpan simulated) => start + simulated / plan.Speed;
        await Task.WhenAll(stores.Select((s, i) => s.SellAsync(times[i], plan.Start, RealAt, cancellationToken)));
        output.WriteLine("stand-ins: every planned sale made");
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }
}
