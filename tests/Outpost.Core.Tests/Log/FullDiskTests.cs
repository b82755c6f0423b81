using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Testing;

namespace Outpost.Core.Tests.Log;

/// <summary>A store's disk filling up for real (a tmpfs of a few MiB): the log refuses writes clearly, tears nothing, and writes again once there is room.</summary>
public sealed class FullDiskTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task On_a_full_disk_appends_are_refused_with_a_clear_error_nothing_is_torn_and_writing_resumes_once_space_is_freed()
    {
        using var disk = SmallDisk.Mount(8);
        var options = new LogOptions { Path = Path.Combine(disk.Path, "store.db"), NodeId = "store-1" };
        var acknowledged = new List<long>();
        await using (var log = SqliteEventLog.Open(options))
        {
            // A sale's worth of JSON that does not compress away, until the disk is full.
            var payload = System.Text.Encoding.UTF8.GetBytes($"{{\"lines\":\"{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(1000))}\"}}");
            NewEvent Sale(int i) => new() { Topic = "sales", Type = "SaleCompleted", Key = "s" + i, Payload = payload };
            disk.Fill(leaveBytes: 512 * 1024);
            LogFullException? refused = null;
            for (var i = 0; i < 2000 && refused is null; i++)
            {
                try
                {
                    acknowledged.Add((await log.AppendAsync(Sale(i), Ct)).Seq);
                }
                catch (LogFullException ex)
                {
                    refused = ex;
                }
            }

            Assert.NotNull(refused);
            Assert.Contains("is full", refused.Message, StringComparison.Ordinal);
            Assert.Contains(options.Path, refused.Message, StringComparison.Ordinal);
            Assert.Contains("nothing of this write was kept", refused.Message, StringComparison.Ordinal);
            Assert.Equal(refused.Message, log.StorageProblem);
            Assert.NotEmpty(acknowledged);

            // Still full: a batch is refused whole, the head does not move, and what was acknowledged reads back.
            var head = log.Head;
            await Assert.ThrowsAsync<LogFullException>(async () => await log.AppendBatchAsync([Sale(9000), Sale(9001), Sale(9002)], cancellationToken: Ct));
            Assert.Equal(head, log.Head);
            Assert.Equal(acknowledged.Count, await log.CountAsync(0, ReadFilter.ForTopics("sales"), Ct));

            // Room again: the next append is the next sequence, and the problem is gone.
            disk.Free();
            var next = await log.AppendAsync(Sale(10_000), Ct);
            Assert.Equal(head + 1, next.Seq);
            Assert.Null(log.StorageProblem);
            acknowledged.Add(next.Seq);
        }

        // Nothing torn: the file verifies, and every acknowledged event is there after a restart, in order.
        var report = SqliteLogVerifier.Verify(options.Path, Ct);
        Assert.True(report.Healthy, string.Join("; ", report.FileProblems.Concat(report.Damaged.Select(d => $"{d.Seq}: {d.Problem}"))));
        await using var reopened = SqliteEventLog.Open(options);
        var seqs = new List<long>();
        await foreach (var e in reopened.EnumerateAsync(ReadFilter.ForTopics("sales"), cancellationToken: Ct))
        {
            seqs.Add(e.Seq);
        }

        Assert.Equal(acknowledged, seqs);
    }

    [Fact]
    public async Task Background_checkpoints_that_meet_a_full_disk_are_tried_again_and_resume_once_there_is_room()
    {
        // They stopped for good: a full disk for a moment left the WAL of the basket file (and of the log) growing
        // until the server restarted, since the file's own connections never checkpoint.
        using var disk = SmallDisk.Mount(8);
        var path = Path.Combine(disk.Path, "file.db");
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t(b BLOB);");
        long writes = 0;
        var failures = 0;
        await using var checkpoints = new WalCheckpointer(
            () =>
            {
                var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
                c.Open();
                return c;
            },
            () => Interlocked.Read(ref writes), TimeSpan.FromMilliseconds(50), _ => Interlocked.Increment(ref failures));

        // Fill the disk while the checkpointer is held off by an open read transaction (so the WAL holds the pages
        // and the file itself still has to grow), then let it try: the copy into the file finds no room.
        var reader = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        reader.Open();
        Execute(reader, "BEGIN; SELECT count(*) FROM t;");
        disk.Fill(leaveBytes: 2 * 1024 * 1024);
        for (var i = 0; i < 4000; i++)
        {
            try
            {
                Execute(connection, $"INSERT INTO t VALUES(randomblob({16 * 1024}))");
                Interlocked.Increment(ref writes);
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                break; // the WAL took the last byte
            }
        }

        Execute(reader, "COMMIT;");
        reader.Dispose();
        for (var i = 0; i < 300 && Volatile.Read(ref failures) == 0; i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(Volatile.Read(ref failures) > 0, "the checkpoint never met the full disk: the test did not fill it");
        var passes = checkpoints.Passes;

        // Room again: checkpoints go on by themselves, and the failure was reported once, not once a try.
        disk.Free();
        for (var i = 0; i < 300 && checkpoints.Passes == passes; i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(checkpoints.Passes > passes, "background checkpoints did not resume within 30 s of the disk having room");
        Assert.Equal(1, Volatile.Read(ref failures));
    }

    private static void Execute(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
