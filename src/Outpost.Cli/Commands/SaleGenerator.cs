using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Cli.Commands;

/// <summary>
/// Simulated tills for <c>outpost store --generate N</c>: appends sales in small durable batches until the
/// store holds N of its own (at most <c>--rate</c> a second), resuming after a restart from what the log holds.
/// </summary>
internal sealed class SaleGenerator(IEventLog log, int target, int perSecond, TimeProvider time, TextWriter output) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var filter = ReadFilter.ForTopics("sales");
        var held = await log.CountAsync(0, filter, stoppingToken);
        while (held < target && !stoppingToken.IsCancellationRequested)
        {
            var count = (int)Math.Min(10, target - held);
            var batch = Enumerable.Range(0, count).Select(i => new NewEvent
            {
                Topic = "sales",
                Type = "SimulatedSale",
                Key = $"{log.NodeId}-{(held + i).ToString(CultureInfo.InvariantCulture)}",
                Scope = Scope.Store(log.NodeId.Value),
                Payload = Encoding.UTF8.GetBytes($$"""{"basket":{{held + i}},"total":"{{(held + i) % 50 + 0.99m}}","currency":"EUR"}"""),
            }).ToList();
            await log.AppendBatchAsync(batch, cancellationToken: stoppingToken);
            held += count;
            if (perSecond > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)count / perSecond), time, stoppingToken);
            }
        }

        output.WriteLine($"generated {held} sales");
    }
}
