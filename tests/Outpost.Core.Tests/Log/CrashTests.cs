using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Core.Tests.Log;

public sealed class CrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_acknowledged_append_survives_SIGKILL_at_random_moments_with_no_gap_or_torn_record()
    {
        var child = Path.Combine(AppContext.BaseDirectory, "Outpost.Testing.CrashChild");
        Assert.True(File.Exists(child), $"crash child not built at {child}: build tests/Outpost.Testing.CrashChild");
        var directory = Path.Combine(Path.GetTempPath(), "outpost-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "log.db");
        var random = new Random(20261123);
        var acknowledged = new Dictionary<long, (int Run, int W, int N)>();
        try
        {
            for (var round = 0; round < 20; round++)
            {
                var kill = random.Next(0, 400); // acknowledgements to wait for before the kill
                await RunAndKillAsync(child, path, round, kill, random.Next(0, 30), acknowledged);

                var report = SqliteLogVerifier.Verify(path, Ct);
                Assert.True(report.Healthy, $"round {round}: {string.Join("; ", report.FileProblems.Concat(report.Damaged.Select(d => d.Problem)))}");
                await using var log = SqliteEventLog.Open(new LogOptions { Path = path, NodeId = "crash-child" });
                var held = new Dictionary<long, (int Run, int W, int N)>();
                for (long after = 0; ;)
                {
                    var page = await log.ReadAsync(after, ReadFilter.All, 5000, Ct);
                    foreach (var e in page.Events)
                    {
                        var root = JsonDocument.Parse(e.Payload).RootElement;
                        held.Add(e.Seq, (root.GetProperty("run").GetInt32(), root.GetProperty("w").GetInt32(), root.GetProperty("n").GetInt32()));
                    }

                    if (page.Events.Count < 5000)
                    {
                        break;
                    }

                    after = page.ScannedTo;
                }

                Assert.Equal(Enumerable.Range(1, held.Count).Select(i => (long)i), held.Keys.Order());
                Assert.True(held.Count == log.Head, $"round {round}: log holds {held.Count} events but opened with head {log.Head}");
                foreach (var (seq, writerAndN) in acknowledged)
                {
                    Assert.True(held.TryGetValue(seq, out var actual) && actual == writerAndN, $"round {round}: acknowledged event {seq} {writerAndN} is missing or different");
                }

                Assert.True(held.Count == held.Values.Distinct().Count(), $"round {round}: an event was stored twice");
            }

            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} appends were acknowledged over 20 rounds");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task RunAndKillAsync(string child, string path, int run, int acknowledgementsBeforeKill, int extraMilliseconds, Dictionary<long, (int Run, int W, int N)> acknowledged)
    {
        var start = new ProcessStartInfo(child, [path, "4", run.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var seen = 0;
        var ready = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            while (!ready || seen < acknowledgementsBeforeKill)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    Assert.Fail($"crash child exited early: {await stderr}");
                }

                if (line == "ready")
                {
                    ready = true;
                    continue;
                }

                Record(line, acknowledged);
                seen++;
            }

            await Task.Delay(extraMilliseconds, Ct);
        }
        finally
        {
            process.Kill(); // SIGKILL on Linux: no finally blocks, no flush, no clean close.
            await process.WaitForExitAsync(Ct);
        }

        // Lines the child printed before it died were acknowledged too; a torn last line was not.
        var rest = await process.StandardOutput.ReadToEndAsync(Ct);
        var lines = rest.Split('\n');
        for (var i = 0; i < lines.Length - 1; i++)
        {
            Record(lines[i], acknowledged);
        }
    }

    private static void Record(string line, Dictionary<long, (int Run, int W, int N)> acknowledged)
    {
        var parts = line.Split(' ');
        acknowledged[long.Parse(parts[0], CultureInfo.InvariantCulture)] =
            (int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture));
    }
}
