using System.Text;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Core.Tests.Log;

public sealed class CorruptionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<TempLog> LogWithMarkedEventsAsync(int count)
    {
        var temp = TempLog.Create();
        var pad = new string('x', 160);
        var batch = Enumerable.Range(1, count).Select(i => TempLog.Event(key: $"k{i}", json: $$"""{"marker":"M{{i:D5}}M","pad":"{{pad}}"}""")).ToList();
        await temp.Log.AppendBatchAsync(batch, cancellationToken: Ct);
        await temp.CloseAsync();
        return temp;
    }

    private static string CopyOf(TempLog temp, string name)
    {
        var copy = Path.Combine(temp.Directory, name, "log.db");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(temp.Path, copy);
        Assert.False(File.Exists(temp.Path + "-wal") && new FileInfo(temp.Path + "-wal").Length > 0, "the log should be checkpointed on close");
        return copy;
    }

    [Fact]
    public async Task An_intact_log_verifies_healthy()
    {
        await using var temp = await LogWithMarkedEventsAsync(50);

        var report = SqliteLogVerifier.Verify(temp.Path, Ct);

        Assert.True(report.Healthy, string.Join("; ", report.FileProblems));
        Assert.Equal((50L, 50L), (report.LastSeq, report.RecordsOk));
    }

    [Fact]
    public async Task One_flipped_bit_in_a_payload_is_reported_for_exactly_that_record_and_never_read()
    {
        await using var temp = await LogWithMarkedEventsAsync(200);
        var copy = CopyOf(temp, "flipped");
        await Outpost.Testing.BitRot.FlipMarkerAsync(copy, "M00042M", Ct);

        var report = SqliteLogVerifier.Verify(copy, Ct);

        var damaged = Assert.Single(report.Damaged);
        Assert.Equal(42, damaged.Seq);
        Assert.Contains("checksum", damaged.Problem, StringComparison.Ordinal);
        Assert.Equal(199, report.RecordsOk);

        await using var log = SqliteEventLog.Open(new LogOptions { Path = copy, NodeId = "store-1" });
        var ex = await Assert.ThrowsAsync<LogCorruptionException>(async () => await log.ReadAsync(0, ReadFilter.All, 100, Ct));
        Assert.Equal(42, ex.Seq);
        var before = await log.ReadAsync(0, ReadFilter.All, 41, Ct);
        var after = await log.ReadAsync(42, ReadFilter.All, 1000, Ct);
        Assert.Equal(41, before.Events.Count);
        Assert.Equal(158, after.Events.Count);
        Assert.DoesNotContain(before.Events.Concat(after.Events), e => e.Seq == 42);
        Assert.Equal(1, log.CorruptRecordsSeen);
    }

    [Fact]
    public async Task Readers_step_over_a_damaged_record_and_a_read_model_parks_it_once_as_a_dead_letter()
    {
        await using var temp = await LogWithMarkedEventsAsync(200);
        var copy = CopyOf(temp, "stepped");
        await Outpost.Testing.BitRot.FlipMarkerAsync(copy, "M00042M", Ct);

        await using (var log = SqliteEventLog.Open(new LogOptions { Path = copy, NodeId = "store-1" }))
        {
            // Read in pages of 10: the page before the damage stops short of it, the next one goes on after it.
            var stepped = new List<long>();
            var read = new List<long>();
            for (var after = 0L; ;)
            {
                var page = await log.ReadPastDamageAsync(after, ReadFilter.All, 10, (_, seq) => { stepped.Add(seq); return ValueTask.CompletedTask; }, Ct);
                read.AddRange(page.Events.Select(e => e.Seq));
                if (page.ScannedTo <= after)
                {
                    break;
                }

                after = page.ScannedTo;
            }

            Assert.Equal([42L], stepped);
            Assert.Equal(Enumerable.Range(1, 200).Where(i => i != 42).Select(i => (long)i), read);

            // A read model handles every intact event and parks the damaged one, so it is on record where an operator looks.
            await Consumers.SalesCountConsumer.CreateTableAsync(log);
            var runner = new Outpost.Core.Consumers.ConsumerRunner(log, new Consumers.SalesCountConsumer(), new Outpost.Core.Consumers.ConsumerOptions { RetryDelay = TimeSpan.Zero });
            await runner.CatchUpAsync(Ct);
            Assert.Equal(199, (await Consumers.SalesCountConsumer.CountsAsync(log)).Count);
            var letter = Assert.Single(await log.GetDeadLettersAsync("sales-count", Ct));
            Assert.Equal((42L, DeadLetter.DamagedRecord), (letter.Seq, letter.Topic));
            Assert.Contains("checksum", letter.Error, StringComparison.Ordinal);
            Assert.Equal(1, runner.Status.Parked);
        }

        // Opened again, the read model does not meet it again: parked once, its checkpoint past it.
        await using (var log = SqliteEventLog.Open(new LogOptions { Path = copy, NodeId = "store-1" }))
        {
            await new Outpost.Core.Consumers.ConsumerRunner(log, new Consumers.SalesCountConsumer(), new Outpost.Core.Consumers.ConsumerOptions { RetryDelay = TimeSpan.Zero }).CatchUpAsync(Ct);
            Assert.Single(await log.GetDeadLettersAsync("sales-count", Ct));
            Assert.Equal(0, log.CorruptRecordsSeen);
        }
    }

    [Fact]
    public async Task A_truncated_file_reports_every_record_it_lost_and_no_read_returns_one()
    {
        const int count = 3000;
        await using var temp = await LogWithMarkedEventsAsync(count);
        var copy = CopyOf(temp, "truncated");
        await using (var file = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite))
        {
            file.SetLength(file.Length * 6 / 10);
        }

        var report = SqliteLogVerifier.Verify(copy, Ct);

        Assert.False(report.Healthy);
        Assert.NotEmpty(report.Damaged);
        Assert.Equal(count, report.LastSeq);
        Assert.True(count == report.RecordsOk + report.Damaged.Count, $"ok {report.RecordsOk} + damaged {report.Damaged.Count} != {count}; damaged from {report.Damaged.Min(d => d.Seq)} to {report.Damaged.Max(d => d.Seq)}; problems: {string.Join(" | ", report.FileProblems.Take(5))}");
        var damaged = report.Damaged.Select(d => d.Seq).ToHashSet();
        Assert.Equal(report.Damaged.Count, damaged.Count);
        Assert.All(damaged, seq => Assert.InRange(seq, 1, count));

        // Whatever a reader manages to open and read, it never returns a lost record.
        var served = new List<long>();
        try
        {
            await using var log = SqliteEventLog.Open(new LogOptions { Path = copy, NodeId = "store-1" });
            for (long after = 0; after < count;)
            {
                try
                {
                    var page = await log.ReadAsync(after, ReadFilter.All, 100, Ct);
                    served.AddRange(page.Events.Select(e => e.Seq));
                    after = page.Events.Count == 0 ? count : page.ScannedTo;
                }
                catch (LogCorruptionException ex)
                {
                    after = ex.Seq ?? (served.Count > 0 ? served[^1] : after) + 100;
                }
            }
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            // The file may be too damaged even to open as a log: then nothing is served at all.
        }

        Assert.DoesNotContain(served, damaged.Contains);
    }
}
