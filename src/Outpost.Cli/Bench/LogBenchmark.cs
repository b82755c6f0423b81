using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using SQLitePCL;

namespace Outpost.Cli.Bench;

/// <summary>
/// The log's append path beside the physical limit measured in the same run: raw SQLite batched inserts
/// into a bare table (1,000 rows per transaction, synchronous=FULL) and raw single-row commits.
/// </summary>
internal sealed class LogBenchmark(TextWriter output, string directory, int events, int payloadBytes, int writers, int window, int roundCount)
{
    private const int RawBatch = RawSqlite.Batch;
    private const int LatencySamples = 1000;

    public async Task<LogBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var payload = Payload(payloadBytes);
        output.WriteLine($"outpost bench log: {events:N0} events of {payload.Length} payload bytes, in {directory}");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");

        var bare = RawSqlite.BatchInsert(directory, events, payload, sameRows: false, cancellationToken);
        output.WriteLine($"  raw SQLite, 3-column table, 1,000 rows/tx, FULL  {bare,12:N0} rows/s   (for context)");

        // A discarded warm-up, so that no round pays for compiling the append path.
        await LogConcurrentAsync(payload, Math.Min(events, 100_000), cancellationToken);
        await SingleAppendLatencyAsync(payload, cancellationToken);

        // fsync latency on a shared machine moves from run to run: each round measures the limit and the log
        // back to back, and the verdict is the median of the rounds' ratios.
        var rounds = new List<Round>();
        for (var round = 1; round <= roundCount; round++)
        {
            output.WriteLine($"  round {round} of {roundCount}");
            var raw = RawSqlite.BatchInsert(directory, events, payload, sameRows: true, cancellationToken);
            output.WriteLine($"    raw SQLite, the log's rows, no index, 1,000/tx {raw,12:N0} rows/s   (the physical limit)");
            var batched = await LogBatchWriterAsync(payload, cancellationToken);
            output.WriteLine($"    log, 1 writer, 1,000-event batches           {batched,12:N0} events/s  {batched / raw,6:P0} of raw");
            var concurrent = await LogConcurrentAsync(payload, events, cancellationToken);
            output.WriteLine($"    log, {writers} writers x {window} appends in flight    {concurrent,12:N0} events/s  {concurrent / raw,6:P0} of raw");
            var rawCommit = RawSingleCommits(payload, cancellationToken);
            output.WriteLine($"    raw SQLite single-row commit                   {rawCommit}   (one durable commit)");
            var (single, tail) = await SingleAppendLatencyAsync(payload, cancellationToken);
            output.WriteLine($"    log, one durable append at a time             {single}  p99 = {single.P99 / rawCommit.P50:F2} raw commit p50s, {single.P99 / rawCommit.P99:F2} raw commit p99s");
            output.WriteLine($"    live tail, commit acknowledged -> tail woken   {tail}");
            rounds.Add(new Round(raw, batched, concurrent, rawCommit, single, tail));
        }

        var median = rounds.OrderBy(r => r.Concurrent / r.Raw).ElementAt(rounds.Count / 2);
        var latency = rounds.OrderBy(r => r.Single.P99 / r.RawCommit.P50).ElementAt(rounds.Count / 2);
        output.WriteLine($"  median of {rounds.Count} rounds: {writers} writers {median.Concurrent / median.Raw:P0} of raw; one append's p99 = {latency.Single.P99 / latency.RawCommit.P50:F2} raw commit p50s "
            + $"({rounds.Select(r => r.Single.P99 / r.RawCommit.P99).Order().ElementAt(rounds.Count / 2):F2} raw commit p99s)");
        return new LogBenchResult
        {
            Events = events,
            PayloadBytes = payload.Length,
            Rounds = rounds.Count,
            RawBareTablePerSecond = Math.Round(bare),
            RawBatchInsertPerSecond = Math.Round(median.Raw),
            RawCommitP50Ms = latency.RawCommit.P50,
            RawCommitP99Ms = latency.RawCommit.P99,
            LogBatchWriterPerSecond = Math.Round(median.Batched),
            LogBatchWriterRatio = Math.Round(median.Batched / median.Raw, 3),
            ConcurrentWriters = writers,
            InFlightPerWriter = window,
            LogConcurrentPerSecond = Math.Round(median.Concurrent),
            LogConcurrentRatio = Math.Round(median.Concurrent / median.Raw, 3),
            ConcurrentRatioPerRound = [.. rounds.Select(r => Math.Round(r.Concurrent / r.Raw, 3))],
            SingleAppendP50Ms = latency.Single.P50,
            SingleAppendP99Ms = latency.Single.P99,
            SingleAppendP99InRawCommits = Math.Round(latency.Single.P99 / latency.RawCommit.P50, 2),
            SingleAppendP99InRawCommitsPerRound = [.. rounds.Select(r => Math.Round(r.Single.P99 / r.RawCommit.P50, 2))],
            SingleAppendP99InRawCommitP99s = Math.Round(rounds.Select(r => r.Single.P99 / r.RawCommit.P99).Order().ElementAt(rounds.Count / 2), 2),
            TailAfterAckP50Ms = latency.Tail.P50,
            TailAfterAckP99Ms = latency.Tail.P99,
        };
    }

    private sealed record Round(double Raw, double Batched, double Concurrent, Percentiles RawCommit, Percentiles Single, Percentiles Tail);

    /// <summary>Writes a benchmark's figures as JSON, creating the folder.</summary>
    public static async Task WriteJsonAsync<T>(T result, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, result, type, cancellationToken);
    }

    private static byte[] Payload(int bytes)
    {
        const string head = "{\"till\":\"till-03\",\"total\":\"12.40\",\"currency\":\"EUR\",\"lines\":3,\"pad\":\"";
        var pad = Math.Max(0, bytes - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}");
    }

    private Percentiles RawSingleCommits(byte[] payload, CancellationToken cancellationToken)
    {
        using var connection = RawSqlite.Connection(directory, "raw-commit.db");
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO raw(topic, key, payload) VALUES('sales', 'k', $payload)";
        insert.Parameters.AddWithValue("$payload", payload);
        var samples = new double[LatencySamples];
        for (var i = 0; i < samples.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var began = Stopwatch.GetTimestamp();
            using var tx = connection.BeginTransaction();
            insert.Transaction = tx;
            insert.ExecuteNonQuery();
            tx.Commit();
            samples[i] = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
        }

        return Percentiles.Of(samples);
    }

    private SqliteEventLog OpenLog(string name)
    {
        var path = Path.Combine(directory, name);
        DeleteDatabase(path);
        return SqliteEventLog.Open(new LogOptions { Path = path, NodeId = "bench-store" });
    }

    private static NewEvent Sale(byte[] payload, int i) => new() { Topic = "sales", Type = "SaleCompleted", Key = "k" + i, Payload = payload };

    private async Task<double> LogBatchWriterAsync(byte[] payload, CancellationToken cancellationToken)
    {
        await using var log = OpenLog("log-batch.db");
        var batch = new NewEvent[RawBatch];
        var stopwatch = Stopwatch.StartNew();
        for (var done = 0; done < events; done += RawBatch)
        {
            var size = Math.Min(RawBatch, events - done);
            for (var i = 0; i < size; i++)
            {
                batch[i] = Sale(payload, done + i);
            }

            await log.AppendBatchAsync(size == RawBatch ? batch : batch[..size], cancellationToken: cancellationToken);
        }

        return events / stopwatch.Elapsed.TotalSeconds;
    }

    private async Task<double> LogConcurrentAsync(byte[] payload, int count, CancellationToken cancellationToken)
    {
        await using var log = OpenLog("log-concurrent.db");
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            // Each writer keeps up to `window` appends in flight, as a busy till fleet or an ingest does.
            var inFlight = new Queue<Task<AppendResult>>(window);
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                if (inFlight.Count == window)
                {
                    await inFlight.Dequeue();
                }

                inFlight.Enqueue(log.AppendAsync(Sale(payload, i), cancellationToken).AsTask());
            }

            while (inFlight.Count > 0)
            {
                await inFlight.Dequeue();
            }
        }, cancellationToken)));
        var rate = count / stopwatch.Elapsed.TotalSeconds;
        if (log.Head != count)
        {
            throw new InvalidOperationException($"The concurrent run ended with head {log.Head}, not {count}.");
        }

        return rate;
    }

    private async Task<(Percentiles Append, Percentiles Tail)> SingleAppendLatencyAsync(byte[] payload, CancellationToken cancellationToken)
    {
        await using var log = OpenLog("log-latency.db");
        var acked = new long[LatencySamples + 1];
        var woken = new long[LatencySamples + 1];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tail = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in log.TailAsync(0, ReadFilter.All, stop.Token))
                {
                    woken[e.Seq] = Stopwatch.GetTimestamp();
                    if (e.Seq == LatencySamples)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, cancellationToken);
        var samples = new double[LatencySamples];
        for (var i = 0; i < LatencySamples; i++)
        {
            var began = Stopwatch.GetTimestamp();
            var result = await log.AppendAsync(Sale(payload, i), cancellationToken);
            acked[result.Seq] = Stopwatch.GetTimestamp();
            samples[i] = Stopwatch.GetElapsedTime(began, acked[result.Seq]).TotalMilliseconds;
        }

        await tail.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        await stop.CancelAsync();
        var wake = Enumerable.Range(1, LatencySamples).Select(s => Math.Max(0, Stopwatch.GetElapsedTime(acked[s], woken[s]).TotalMilliseconds));
        return (Percentiles.Of(samples), Percentiles.Of(wake));
    }

    public void Cleanup()
    {
        foreach (var name in new[] { "raw-batch.db", "raw-rows.db", "raw-commit.db", "log-batch.db", "log-concurrent.db", "log-latency.db" })
        {
            DeleteDatabase(Path.Combine(directory, name));
        }
    }

    /// <summary>Removes a benchmark's folder and what is in it, as far as it can (a leftover temp folder is harmless).</summary>
    internal static void DeleteFolder(string directory)
    {
        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    internal static void DeleteDatabase(string path)
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm", ".lock" })
        {
            File.Delete(path + suffix);
        }
    }
}
