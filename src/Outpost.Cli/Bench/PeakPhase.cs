using System.Diagnostics;
using Outpost.Central.Stores;

namespace Outpost.Cli.Bench;

/// <summary>
/// The lunch peak, as a fleet sends it: many stores, each with one up request in flight carrying the few sales made
/// since its last (the agent as shipped sends each sale as soon as it is made when sales trickle in; a store at the
/// peak makes about 5 a second), against HQ's ingest of large batches from a few stores catching up. Measures what a
/// request costs HQ and PostgreSQL, and from that what a fleet of <see cref="FleetStores"/> at
/// <see cref="SalesPerStoreSecond"/> sales a second each needs: the figure that says whether HQ's one log order, or
/// the requests around it, is the limit.
/// </summary>
internal sealed class PeakPhase(TextWriter output, Uri hq, IReadOnlyList<IssuedCredential> stores, string database, IReadOnlyList<(string Name, Func<TimeSpan> Cpu)> parts,
    Func<CancellationToken, Task> settle)
{
    /// <summary>Ten times a large retailer's fleet.</summary>
    public const int FleetStores = 20_000;

    /// <summary>The lunch peak: sales a second at each store.</summary>
    public const double SalesPerStoreSecond = 5;

    /// <summary>Sales a request: one (each sale as it is made) and five (a second of a store's sales at the peak).</summary>
    private static readonly int[] Shapes = [1, 5];

    private const int RequestsPerStore = 20;

    public async Task<PeakResult> RunAsync(CancellationToken cancellationToken)
    {
        output.WriteLine($"  the lunch peak: {stores.Count:N0} stores at once, each one up request in flight with the sales made since its last, {RequestsPerStore} requests each");
        long next = 1;
        // Untimed: every store's connection opened, its credential checked once.
        await UpSenders.Encode(stores, 3, 1, next).SendAsync(hq, 1, cancellationToken);
        next += 3;
        var shapes = new List<PeakShape>();
        foreach (var perRequest in Shapes)
        {
            var up = UpSenders.Encode(stores, RequestsPerStore * perRequest, perRequest, next);
            next += RequestsPerStore * perRequest;
            await settle(cancellationToken);
            var ledger = new CpuLedger(parts).Start();
            var clock = Stopwatch.StartNew();
            await up.SendAsync(hq, 1, cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = ledger.Stop();
            var requests = up.Requests;
            var fleetRequests = FleetStores * SalesPerStoreSecond / perRequest;
            var perPart = cpu.Parts.ToDictionary(p => p.Name, p => Math.Round(p.Seconds / requests * 1e6, 1), StringComparer.Ordinal);
            var cores = cpu.Parts.Where(p => p.Name != "the sending stores").ToDictionary(p => p.Name, p => Math.Round(p.Seconds / requests * fleetRequests, 2), StringComparer.Ordinal);
            var shape = new PeakShape(perRequest, Math.Round(requests / seconds), Math.Round(requests * perRequest / seconds), perPart, Math.Round(fleetRequests), cores);
            shapes.Add(shape);
            output.WriteLine($"    {perRequest} sale(s) a request: {shape.RequestsPerSecond,8:N0} requests/s = {shape.EventsPerSecond,8:N0} events/s   CPU per request: "
                + string.Join(", ", perPart.Select(p => $"{p.Key} {p.Value:F1} µs")));
            output.WriteLine($"      {cpu.Describe()}");
            if (up.Busy > 0)
            {
                output.WriteLine($"      HQ asked the senders to wait {up.Busy:N0} times (503 busy or 429), each request sent again after the wait");
            }

            output.WriteLine($"      {FleetStores:N0} stores x {SalesPerStoreSecond} sales/s = {fleetRequests:N0} requests/s would need "
                + string.Join(", ", cores.Select(c => $"{c.Key} {c.Value:F1} cores")) + $" (this machine: {Environment.ProcessorCount})");
        }

        var expected = (next - 1) * stores.Count;
        var held = await HqBenchmark.CountAsync(database, [.. stores.Select(s => s.StoreId)], cancellationToken);
        if (held != expected)
        {
            throw new InvalidOperationException($"HQ holds {held:N0} of the peak's sales; its stores sent {expected:N0} distinct ones.");
        }

        return new PeakResult(stores.Count, shapes);
    }
}

/// <summary>The lunch peak's figures for one request size.</summary>
/// <param name="SalesPerRequest">Sales each request carried.</param>
/// <param name="RequestsPerSecond">Requests HQ acknowledged a second.</param>
/// <param name="EventsPerSecond">Sales HQ made durable a second.</param>
/// <param name="CpuMicrosPerRequest">CPU per request by part (HQ, PostgreSQL, the sending stores).</param>
/// <param name="FleetRequestsPerSecond">Requests a second the whole fleet sends at the peak at this size.</param>
/// <param name="FleetCores">Cores HQ and PostgreSQL would need for them at the CPU per request measured.</param>
internal sealed record PeakShape(int SalesPerRequest, double RequestsPerSecond, double EventsPerSecond, IReadOnlyDictionary<string, double> CpuMicrosPerRequest,
    double FleetRequestsPerSecond, IReadOnlyDictionary<string, double> FleetCores);

/// <summary>The lunch peak phase of <c>outpost bench hq</c>.</summary>
internal sealed record PeakResult(int Stores, IReadOnlyList<PeakShape> Shapes);
