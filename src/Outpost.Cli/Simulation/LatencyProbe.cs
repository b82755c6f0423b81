using System.Collections.Concurrent;
using System.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;

namespace Outpost.Cli.Simulation;

/// <summary>
/// Replication's latency while a store is connected, measured end to end in real time: <b>up</b>, from a till's sale
/// acknowledged until HQ's log holds it; <b>down</b>, from HQ acknowledging a price change until a till of a store
/// in its scope reads the new price. A sample counts only when nothing disturbed the store or HQ from its start to
/// its end (no fault on its link, no kill of its process, no fault of HQ's, no catch-up after one still running):
/// what is measured is the connected path, not a recovery.
/// </summary>
internal sealed class LatencyProbe(SimulatedHq hq, IReadOnlyList<SimulatedStore> stores)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<double> _up = new();
    private readonly ConcurrentQueue<double> _down = new();

    public IReadOnlyCollection<double> Up => _up;

    public IReadOnlyCollection<double> Down => _down;

    /// <summary>
    /// Until cancelled: whenever a connected store's till has a sale acknowledged, and fewer than eight samples run,
    /// waits until HQ holds as many of that store's sales as it had acknowledged then, and records the time since.
    /// </summary>
    public async Task UpAsync(CancellationToken cancellationToken)
    {
        var seen = stores.Select(s => s.Acknowledged).ToArray();
        var running = new Task?[stores.Count];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                for (var i = 0; i < stores.Count; i++)
                {
                    var (store, count) = (stores[i], stores[i].Acknowledged);
                    if (count == seen[i])
                    {
                        continue;
                    }

                    seen[i] = count;
                    if (running[i] is null or { IsCompleted: true } && running.Count(t => t is { IsCompleted: false }) < 8 && Connected(store))
                    {
                        running[i] = UpSampleAsync(store, count, store.LastAcknowledged, cancellationToken);
                    }
                }

                await Task.Delay(20, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(running.OfType<Task>());
    }

    private async Task UpSampleAsync(SimulatedStore store, int target, long acknowledgedAt, CancellationToken cancellationToken)
    {
        var (before, hqBefore) = (store.Faults.Ever, hq.Faults.Ever);
        var filter = new ReadFilter { Topics = [CheckoutEvents.SalesTopic], Scopes = [Scope.Store(store.Id)] };
        try
        {
            while (Stopwatch.GetElapsedTime(acknowledgedAt) < Bound && await CountAsync(filter, cancellationToken) < target)
            {
                await Task.Delay(10, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Record(_up, store, before, hqBefore, Stopwatch.GetElapsedTime(acknowledgedAt));
    }

    /// <summary>
    /// After HQ acknowledged a price: for each connected store in <paramref name="inScope"/> (at most 20, spread over
    /// them), the time until its till reads <paramref name="amount"/> for <paramref name="gtin"/>.
    /// </summary>
    public async Task DownAsync(long acknowledgedAt, string gtin, decimal amount, IReadOnlyList<SimulatedStore> inScope, CancellationToken cancellationToken)
    {
        var sample = inScope.Where((_, i) => i % Math.Max(1, inScope.Count / 20) == 0).Where(Connected).ToList();
        await Task.WhenAll(sample.Select(async store =>
        {
            var (before, hqBefore) = (store.Faults.Ever, hq.Faults.Ever);
            while (Stopwatch.GetElapsedTime(acknowledgedAt) < Bound && await store.PriceAsync(gtin, cancellationToken) != amount)
            {
                await Task.Delay(10, cancellationToken);
            }

            Record(_down, store, before, hqBefore, Stopwatch.GetElapsedTime(acknowledgedAt));
        }));
    }

    private bool Connected(SimulatedStore store) => store.Faults.Now == 0 && hq.Faults.Now == 0;

    /// <summary>Keeps a sample only when nothing disturbed the store or HQ while it was taken.</summary>
    private void Record(ConcurrentQueue<double> into, SimulatedStore store, long before, long hqBefore, TimeSpan elapsed)
    {
        if (store.Faults.Ever == before && hq.Faults.Ever == hqBefore && Connected(store) && elapsed < Bound)
        {
            into.Enqueue(elapsed.TotalSeconds);
        }
    }

    private async Task<long> CountAsync(ReadFilter filter, CancellationToken cancellationToken)
    {
        try
        {
            return await hq.Log.CountAsync(0, filter, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return -1; // HQ's database restarting: not there yet
        }
    }
}
