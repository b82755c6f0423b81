using System.Text.Json.Serialization;

namespace Outpost.Cli.Bench;

/// <summary>What every benchmark's JSON starts with: which benchmark, when, on what machine.</summary>
/// <param name="Benchmark">The benchmark's name (<c>log</c>, <c>sync</c>, <c>store</c>, <c>hq</c>).</param>
internal abstract record BenchResult(string Benchmark)
{
    /// <summary>When it ran.</summary>
    public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The machine it ran on.</summary>
    public string Machine { get; init; } = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
}

/// <summary>What <c>outpost bench log</c> measured, written as JSON.</summary>
internal sealed record LogBenchResult() : BenchResult("log")
{
    public required int Events { get; init; }

    public required int PayloadBytes { get; init; }

    public required int Rounds { get; init; }

    public required double RawBareTablePerSecond { get; init; }

    public required double RawBatchInsertPerSecond { get; init; }

    public required double RawCommitP50Ms { get; init; }

    public required double RawCommitP99Ms { get; init; }

    public required double LogBatchWriterPerSecond { get; init; }

    public required double LogBatchWriterRatio { get; init; }

    public required int ConcurrentWriters { get; init; }

    public required int InFlightPerWriter { get; init; }

    public required double LogConcurrentPerSecond { get; init; }

    public required double LogConcurrentRatio { get; init; }

    public required IReadOnlyList<double> ConcurrentRatioPerRound { get; init; }

    public required double SingleAppendP50Ms { get; init; }

    public required double SingleAppendP99Ms { get; init; }

    public required double SingleAppendP99InRawCommits { get; init; }

    public required IReadOnlyList<double> SingleAppendP99InRawCommitsPerRound { get; init; }

    public required double SingleAppendP99InRawCommitP99s { get; init; }

    public required double TailAfterAckP50Ms { get; init; }

    public required double TailAfterAckP99Ms { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LogBenchResult))]
[JsonSerializable(typeof(SyncBenchResult))]
[JsonSerializable(typeof(StoreBenchResult))]
[JsonSerializable(typeof(ServicesBenchResult))]
[JsonSerializable(typeof(HqBenchResult))]
[JsonSerializable(typeof(RolloutBenchResult))]
[JsonSerializable(typeof(IReadOnlyList<double>))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
