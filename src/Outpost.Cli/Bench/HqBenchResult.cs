namespace Outpost.Cli.Bench;

/// <summary>What <c>outpost bench hq</c> measured, written as JSON.</summary>
internal sealed record HqBenchResult() : BenchResult("hq")
{
    public required int Events { get; init; }

    public required int PayloadBytes { get; init; }

    public required double RawCopyPerSecond { get; init; }

    public required double RawIndexedCopyPerSecond { get; init; }

    public required double IngestIndexedRatio { get; init; }

    public required double IngestPerSecond { get; init; }

    public required double IngestRatio { get; init; }

    public required double IngestHqCpuPercent { get; init; }

    /// <summary>CPU time per ingested event, in microseconds, by part (HQ, PostgreSQL, the sending stores).</summary>
    public required IReadOnlyDictionary<string, double> IngestCpuMicrosPerEvent { get; init; }

    /// <summary>The whole machine's busy CPU during the ingest, in percent of one core.</summary>
    public required double? IngestMachineBusyPercent { get; init; }

    /// <summary>CPU the hypervisor gave to other guests during the ingest, in percent of one core.</summary>
    public required double? IngestStealPercent { get; init; }

    /// <summary>Events a second this machine's cores could ingest at the CPU cost per event measured.</summary>
    public required double IngestCpuCeilingPerSecond { get; init; }

    public required double IngestCpuCeilingRatio { get; init; }

    /// <summary>Binary COPY into the indexed table in two streams at once: what a parallel write path could reach.</summary>
    public double RawIndexedTwoStreamsPerSecond { get; init; }

    /// <summary>Whether every timed phase started after a CHECKPOINT (false on a given server whose user may not checkpoint).</summary>
    public bool PhasesSettled { get; init; }

    /// <summary>The PostgreSQL log alone, appended to in the benchmark's process (no HTTP), in events a second.</summary>
    public double LogAlonePerSecond { get; init; }

    public double LogAloneRatio { get; init; }

    public required int Pollers { get; init; }

    public required int Changes { get; init; }

    public double DeliveryP50Ms { get; init; }

    public double DeliveryP99Ms { get; init; }

    public double DeliveryMaxMs { get; init; }

    public int DeliveriesMissing { get; init; }

    public double HeldResidentMiB { get; init; }

    public double HeldHqCpuPercent { get; init; }

    /// <summary>What PostgreSQL did during the indexed raw COPY and during the ingest (commits, WAL, backend writes).</summary>
    public PostgresWork? RawIndexedWork { get; init; }

    public PostgresWork? IngestWork { get; init; }

    /// <summary>The lunch peak: many stores, small requests, one in flight each; and what the whole fleet would need.</summary>
    public PeakResult? Peak { get; init; }

    /// <summary>The fan-out phase in full: nodes, stages, scoped changes.</summary>
    public FanOutResult? FanOut { get; init; }
}

/// <summary>Processes a benchmark started, killed together when it ends.</summary>
internal sealed class ProcessList : IAsyncDisposable
{
    private readonly List<OutpostProcess> _processes = [];

    public OutpostProcess Add(OutpostProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }
}
