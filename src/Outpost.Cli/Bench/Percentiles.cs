namespace Outpost.Cli.Bench;

/// <summary>Latency summary of a sample, in milliseconds.</summary>
internal readonly record struct Percentiles(double P50, double P99, double Max)
{
    public static Percentiles Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            return default;
        }

        return new Percentiles(At(sorted, 0.50), At(sorted, 0.99), sorted[^1]);
    }

    private static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    public override string ToString() => $"p50 {P50:F3} ms, p99 {P99:F3} ms, max {Max:F3} ms";
}
