using System.Diagnostics;
using System.Globalization;

namespace Outpost.Cli.Bench;

/// <summary>
/// Where a machine's CPU went between <see cref="Start"/> and <see cref="Stop"/>: the CPU time of each named part (a
/// process, or a process and its children, such as a PostgreSQL server and its backends), what the rest of the
/// machine used, what stayed idle, and what the hypervisor gave to other guests (steal). Read from Linux's
/// <c>/proc</c>; on another system the machine's share is unknown and only the parts are counted.
/// </summary>
internal sealed class CpuLedger(IReadOnlyList<(string Name, Func<TimeSpan> Cpu)> parts)
{
    /// <summary>Linux reports process and machine CPU in clock ticks of 1/100 s (USER_HZ) on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    private TimeSpan[] _partsAtStart = [];
    private MachineTicks? _machineAtStart;
    private long _startedAt;

    public CpuLedger Start()
    {
        _partsAtStart = parts.Select(p => p.Cpu()).ToArray();
        _machineAtStart = MachineTicks.Read();
        _startedAt = Stopwatch.GetTimestamp();
        return this;
    }

    public CpuReport Stop()
    {
        var elapsed = Stopwatch.GetElapsedTime(_startedAt);
        var used = parts.Select((p, i) => (p.Name, Seconds: (p.Cpu() - _partsAtStart[i]).TotalSeconds)).ToList();
        var machine = MachineTicks.Read();
        double? busy = null, idle = null, steal = null;
        if (machine is not null && _machineAtStart is not null)
        {
            busy = (machine.Busy - _machineAtStart.Busy) / TicksPerSecond;
            idle = (machine.Idle - _machineAtStart.Idle) / TicksPerSecond;
            steal = (machine.Steal - _machineAtStart.Steal) / TicksPerSecond;
        }

        return new CpuReport(elapsed.TotalSeconds, Environment.ProcessorCount, used, busy, idle, steal);
    }

    /// <summary>The CPU time of a process and of all its children, living and (once it has reaped them) ended.</summary>
    public static TimeSpan ProcessTree(int rootId)
    {
        if (!OperatingSystem.IsLinux())
        {
            using var process = Process.GetProcessById(rootId);
            return process.TotalProcessorTime;
        }

        var ticks = Tree(rootId).Sum(p => p.Stat.Own + p.Stat.Children);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>
    /// <see cref="ProcessTree"/> split by what each child is, from the title it gives itself in <c>/proc/ID/cmdline</c>
    /// (PostgreSQL names its processes: <c>postgres: checkpointer</c>, <c>postgres: autovacuum worker</c>, a
    /// connection's <c>postgres: user database host(port) COPY</c>); the root's own CPU, and that of children that ended
    /// and were reaped (whose title is gone), are kinds of their own.
    /// </summary>
    public static Dictionary<string, TimeSpan> ProcessTreeByKind(int rootId, Func<string, string> kindOfTitle)
    {
        var ticks = new Dictionary<string, long>(StringComparer.Ordinal);
        void Add(string kind, long more) => ticks[kind] = ticks.GetValueOrDefault(kind) + more;
        foreach (var (id, stat) in Tree(rootId))
        {
            if (id == rootId)
            {
                Add("the server's main process", stat.Own);
                Add("processes that ended", stat.Children);
                continue;
            }

            try
            {
                Add(kindOfTitle(File.ReadAllText($"/proc/{id}/cmdline").Replace('\0', ' ').Trim()), stat.Own + stat.Children);
            }
            catch (IOException)
            {
                // Ended since it was listed: its CPU arrives with the root's reaped children.
            }
        }

        return ticks.ToDictionary(t => t.Key, t => TimeSpan.FromSeconds(t.Value / TicksPerSecond), StringComparer.Ordinal);
    }

    /// <summary>The root and its direct children, each with its ticks (Linux).</summary>
    private static IEnumerable<(int Id, (long Own, long Children, int Parent) Stat)> Tree(int rootId)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var id) && ReadStat(id) is { } stat && (id == rootId || stat.Parent == rootId))
            {
                yield return (id, stat);
            }
        }
    }

    /// <summary>A process's own CPU ticks, its reaped children's, and its parent, from <c>/proc/ID/stat</c>.</summary>
    private static (long Own, long Children, int Parent)? ReadStat(int id)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{id}/stat");
        }
        catch (IOException)
        {
            return null; // Ended since the directory was listed.
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return (Field(14) + Field(15), Field(16) + Field(17), (int)Field(4));
    }

    private sealed record MachineTicks(long Busy, long Idle, long Steal)
    {
        /// <summary>The first line of <c>/proc/stat</c>: user nice system idle iowait irq softirq steal (guest time is inside user).</summary>
        public static MachineTicks? Read()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return new MachineTicks(fields[0] + fields[1] + fields[2] + fields[5] + fields[6], fields[3] + fields[4], fields.Length > 7 ? fields[7] : 0);
        }
    }
}

/// <summary>CPU seconds by part over a measured stretch of wall time, on a machine of <see cref="Cores"/> cores.</summary>
internal sealed record CpuReport(double Seconds, int Cores, IReadOnlyList<(string Name, double Seconds)> Parts, double? MachineBusy, double? MachineIdle, double? Steal)
{
    public double Of(string name) => Parts.First(p => p.Name == name).Seconds;

    /// <summary>CPU time per unit of work, in microseconds, summed over the parts.</summary>
    public double MicrosPer(long units) => Parts.Sum(p => p.Seconds) / units * 1e6;

    /// <summary>
    /// How many units a second this machine could do if every core did nothing but this work at the CPU cost
    /// measured here: the ceiling no design of the parts could pass without spending less CPU per unit.
    /// </summary>
    public double Ceiling(long units) => Cores * 1e6 / MicrosPer(units);

    /// <summary>One line: each part's share (100% = one core), the rest of the machine, idle, stolen.</summary>
    public string Describe()
    {
        var shares = Parts.Select(p => $"{p.Name} {Percent(p.Seconds)}").ToList();
        if (MachineBusy is { } busy && MachineIdle is { } idle && Steal is { } steal)
        {
            shares.Add($"rest of the machine {Percent(Math.Max(0, busy - Parts.Sum(p => p.Seconds)))}");
            shares.Add($"idle {Percent(idle)}");
            shares.Add($"stolen by the hypervisor {Percent(steal)}");
        }

        return $"CPU of {Cores} cores ({Cores * 100}%): {string.Join(", ", shares)}";
    }

    public double PercentOf(string name) => Of(name) / Seconds * 100;

    private string Percent(double cpuSeconds) => (cpuSeconds / Seconds * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
}
