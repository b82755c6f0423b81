using System.Diagnostics;
using System.Globalization;
using System.Text;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Core.Topics;

namespace Outpost.Cli.Commands;

/// <summary>
/// Part one of <c>outpost demo</c>: a store's event log at work: tills appending sales concurrently, a live
/// tail, a read model fed by a durable consumer, an idempotent retry, retention and verification.
/// </summary>
internal static class LogDemo
{
    /// <summary>Part 1's topics: telemetry gets a small byte budget so that eviction shows.</summary>
    private static readonly TopicCatalog Topics = new([
        new TopicPolicy("sales", TopicDirection.Up, TopicPriority.Critical, RetentionPolicy.UntilDone(TimeSpan.FromDays(7))),
        new TopicPolicy("telemetry", TopicDirection.Up, TopicPriority.Low, RetentionPolicy.Budget(64 * 1024, TimeSpan.FromDays(1))),
    ]);

    public static async Task RunAsync(TextWriter output, string directory, int sales, int tills, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "store-001.db");
        output.WriteLine($"Part 1. The event log of store-001 at {path}");
        await using var log = SqliteEventLog.Open(new LogOptions { Path = path, NodeId = "store-001", Topics = Topics });
        await SalesTotalsConsumer.CreateAsync(log, cancellationToken);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var start = log.Head;
        var tailed = 0;
        var lastTailed = 0L;
        var tail = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in log.TailAsync(start, ReadFilter.ForTopics("sales"), stop.Token))
                {
                    lastTailed = e.Seq;
                    if (Interlocked.Increment(ref tailed) <= 3)
                    {
                        output.WriteLine($"  live tail  #{e.Seq,-6} {e.Type} {e.Key} by {e.Origin.Node} at {e.Origin.Timestamp}: {Encoding.UTF8.GetString(e.Payload.Span)}");
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, cancellationToken);
        var runner = new ConsumerRunner(log, new SalesTotalsConsumer());
        var consumer = runner.RunAsync(stop.Token);

        output.WriteLine($"{tills} tills record {sales} sales at once; each sale is durable before the till is told so.");
        var stopwatch = Stopwatch.StartNew();
        var latencies = new double[sales];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(1, tills).Select(till => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < sales; i = Interlocked.Increment(ref next))
            {
                var amount = (1 + (i % 37)) * 0.55m;
                var began = Stopwatch.GetTimestamp();
                await log.AppendAsync(new NewEvent
                {
                    Topic = "sales",
                    Type = "SaleCompleted",
                    Key = $"till-{till:D2}-{i:D6}",
                    Payload = Encoding.UTF8.GetBytes($$"""{"till":"till-{{till:D2}}","total":"{{amount.ToString(CultureInfo.InvariantCulture)}}","currency":"EUR"}"""),
                }, cancellationToken);
                latencies[i] = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
            }
        }, cancellationToken)));
        var elapsed = stopwatch.Elapsed;
        Array.Sort(latencies);
        output.WriteLine($"  {sales} sales in {elapsed.TotalSeconds:F2} s = {sales / elapsed.TotalSeconds:N0} durable appends/s; append p50 {latencies[sales / 2]:F2} ms, p99 {latencies[(int)(sales * 0.99)]:F2} ms");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((runner.Status.Position < log.Head || lastTailed < log.Head) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken);
        }

        output.WriteLine($"  the live tail saw {tailed} sales; the consumer is at #{runner.Status.Position} of #{log.Head}");
        output.WriteLine("Takings per till, from the read model the consumer keeps in the same database:");
        foreach (var (till, count, total) in await SalesTotalsConsumer.ReadAsync(log, cancellationToken))
        {
            output.WriteLine($"  {till}  {count,6} sales  {total,12:N2} EUR");
        }

        var first = (await log.ReadAsync(start, ReadFilter.ForTopics("sales"), 1, cancellationToken)).Events[0];
        var retry = await log.AppendAsync(first.ToReplica(), cancellationToken);
        output.WriteLine($"A retried delivery of ({first.Origin.Node}, {first.Origin.Seq}) returns #{retry.Seq}, duplicate={retry.Duplicate}: nothing is written twice.");

        for (var i = 0; i < 200; i++)
        {
            await log.AppendAsync(new NewEvent { Topic = "telemetry", Type = "Heartbeat", Key = $"kiosk-{i % 4}", Payload = Encoding.UTF8.GetBytes($$"""{"cpu":{{i % 100}},"pad":"{{new string('t', 400)}}"}""") }, cancellationToken);
        }

        var retention = await log.ApplyRetentionAsync(cancellationToken);
        var stats = await log.GetStatsAsync(cancellationToken);
        output.WriteLine($"Retention: telemetry has a 64 KiB budget, so {retention.Evicted.GetValueOrDefault("telemetry")} oldest heartbeats were evicted (and counted); sales stay until HQ has them.");
        foreach (var topic in stats.Topics)
        {
            output.WriteLine($"  {topic.Topic,-10} {topic.Events,7} events {topic.PayloadBytes,10:N0} bytes  evicted so far: {topic.EvictedEvents}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(tail, consumer);
        await log.DisposeAsync();
        var report = SqliteLogVerifier.Verify(path, cancellationToken);
        output.WriteLine($"Verification: {report.RecordsOk} records intact, {report.Damaged.Count} damaged: {(report.Healthy ? "healthy" : "DAMAGED")}.");
        output.WriteLine($"The log stays at {path}; check it again with: outpost log verify {path}");
    }
}
