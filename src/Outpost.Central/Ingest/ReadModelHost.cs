using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Outpost.Core.Consumers;
using Outpost.Core.Log;

namespace Outpost.Central.Ingest;

/// <summary>
/// Runs HQ's read models on whichever node holds each one's lease (<see cref="ConsumerLease"/>): every node tries,
/// one runs each read model, and when that node stops or stalls another takes over within the lease's time to live.
/// </summary>
public sealed partial class ReadModelHost(IEventLog log, HqReadModels models, TimeProvider time, ILogger<ReadModelHost> logger) : BackgroundService
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private readonly string _holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    private readonly Dictionary<string, ConsumerRunner> _running = [];
    private readonly Lock _gate = new();

    /// <summary>This node's name in the lease table.</summary>
    public string Holder => _holder;

    /// <summary>The read models this node runs right now.</summary>
    public IReadOnlyList<string> Running
    {
        get
        {
            lock (_gate)
            {
                return [.. _running.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The runner of a read model while this node runs it (to wait for a position).</summary>
    public ConsumerRunner? RunnerOf(string consumer)
    {
        lock (_gate)
        {
            return _running.GetValueOrDefault(consumer);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each read model's loop creates the tables first (again after a failure): a node that starts while its
        // database restarts keeps trying instead of stopping.
        await Task.WhenAll(models.Consumers.Select(c => Task.Run(() => LeadAsync(c, stoppingToken), stoppingToken)));
    }

    private async Task LeadAsync(IEventConsumer consumer, CancellationToken stoppingToken)
    {
        var lease = new ConsumerLease(log, consumer.Name, _holder, time, Ttl);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await models.EnsureCreatedAsync(stoppingToken);
                if (await lease.TryAcquireAsync(stoppingToken) is { } epoch)
                {
                    await RunWhileHeldAsync(consumer, lease, epoch, stoppingToken);
                }

                await Task.Delay(Ttl / 4, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.LeaseFailed(logger, ex, consumer.Name);
                await Task.Delay(Ttl / 4, time, stoppingToken);
            }
        }
    }

    private async Task RunWhileHeldAsync(IEventConsumer consumer, ConsumerLease lease, long epoch, CancellationToken stoppingToken)
    {
        using var held = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var runner = new ConsumerRunner(log, consumer, new ConsumerOptions { Fence = lease.FenceAt(epoch) }, time);
        lock (_gate)
        {
            _running[consumer.Name] = runner;
        }

        Log.Leading(logger, consumer.Name, epoch);
        var run = runner.RunAsync(held.Token);
        try
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(Ttl / 3, time, held.Token));
                if (!run.IsCompleted && !await lease.RenewAsync(epoch, held.Token))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_gate)
            {
                _running.Remove(consumer.Name);
            }

            await held.CancelAsync();
            try
            {
                await run;
            }
            catch (Exception ex) when (ex is LeaseLostException or OperationCanceledException)
            {
            }
        }

        Log.Stopped(logger, consumer.Name, epoch);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "This node now runs read model {Consumer} (lease epoch {Epoch}).")]
        public static partial void Leading(ILogger logger, string consumer, long epoch);

        [LoggerMessage(2, LogLevel.Information, "This node stopped running read model {Consumer} (lease epoch {Epoch}).")]
        public static partial void Stopped(ILogger logger, string consumer, long epoch);

        [LoggerMessage(3, LogLevel.Warning, "Could not take or keep the lease of read model {Consumer}; trying again.")]
        public static partial void LeaseFailed(ILogger logger, Exception exception, string consumer);
    }
}
