using System.Diagnostics;
using System.Text.Json;
using Outpost.Fuzz;

namespace Outpost.Sync.Tests;

/// <summary>
/// The parsers that face the network or files under fuzzing (fuzz/: SharpFuzz-instrumented assemblies driven by
/// afl-fuzz): every seed and every input that once failed is handled as bad input, never a crash; and a short
/// coverage-guided run of each target (the benchmark mode's budget cut to seconds) finds no crash and no hang.
/// </summary>
public sealed class FuzzTests
{
    private static readonly string Repository = FindRepository();

    [Fact]
    public void Every_seed_and_every_input_that_once_failed_is_handled_by_each_parser()
    {
        var replayed = 0;
        foreach (var (target, name, bytes) in Targets.Seeds())
        {
            Targets.All[target](bytes);
            replayed++;
        }

        var regressions = Path.Combine(Repository, "fuzz", "regressions");
        foreach (var file in Directory.EnumerateFiles(regressions, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
        {
            var target = Path.GetFileName(Path.GetDirectoryName(file)!);
            Assert.True(Targets.All.TryGetValue(target, out var run), $"{file} is under no target's folder");
            run(File.ReadAllBytes(file));
            replayed++;
        }

        // The input that made HQ answer 500 (Brotli's decoder throws InvalidOperationException on damaged data) is kept.
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(regressions, "batch")));
        Assert.True(replayed >= 10, $"{replayed} inputs replayed");
    }

    [Fact]
    public async Task A_short_coverage_guided_run_of_each_target_finds_no_crash_and_no_hang()
    {
        Assert.True(File.Exists("/usr/bin/afl-fuzz"), "The fuzz tests need afl-fuzz: install it with 'apt-get install -y afl++' (./test.sh does this when run as root).");
        var json = Path.Combine(Path.GetTempPath(), "outpost-fuzz-" + Guid.NewGuid().ToString("N") + ".json");
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository, "fuzz", "fuzz.sh"), "--seconds", "8", "--json", json])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository,
        };
        using var fuzz = Process.Start(start)!;
        var output = fuzz.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = fuzz.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(8));
        await fuzz.WaitForExitAsync(limit.Token);
        var said = await output + await errors;
        Assert.True(fuzz.ExitCode == 0, $"fuzz.sh exited {fuzz.ExitCode}:\n{said}");

        var targets = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken)).RootElement.GetProperty("targets").EnumerateArray().ToList();
        File.Delete(json);
        Assert.Equal(Targets.All.Keys.Order(StringComparer.Ordinal), targets.Select(t => t.GetProperty("target").GetString()!).Order(StringComparer.Ordinal));
        foreach (var target in targets)
        {
            var name = target.GetProperty("target").GetString();
            Assert.True(target.GetProperty("inputs").GetInt64() > 1000, $"{name}: only {target.GetProperty("inputs")} inputs tried\n{said}");
            Assert.True(target.GetProperty("paths").GetInt64() > 1, $"{name}: no new path found, so nothing was instrumented\n{said}");
            Assert.Equal(0, target.GetProperty("crashes").GetInt32());
            Assert.Equal(0, target.GetProperty("hangs").GetInt32());
        }
    }

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Outpost.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository (Outpost.slnx) is not above the test's folder");
    }
}
