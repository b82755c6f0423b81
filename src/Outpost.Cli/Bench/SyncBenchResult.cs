namespace Outpost.Cli.Bench;

/// <summary>What <c>outpost bench sync</c> measured, written as JSON.</summary>
internal sealed record SyncBenchResult() : BenchResult("sync")
{
    public required int Events { get; init; }

    public required int PayloadBytes { get; init; }

    public required double RawBatchInsertPerSecond { get; init; }

    public required double CatchUpSeconds { get; init; }

    public required double CatchUpPerSecond { get; init; }

    public required double CatchUpRatio { get; init; }

    public required double WireBytesPerEvent { get; init; }

    public required double UpLatencyP50Ms { get; init; }

    public required double UpLatencyP99Ms { get; init; }

    public required double DownLatencyP50Ms { get; init; }

    public required double DownLatencyP99Ms { get; init; }

    public required double RestoredToAckedMs { get; init; }
}
