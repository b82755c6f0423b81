namespace Outpost.Cli.Simulation;

/// <summary>
/// A seed for one generator of the simulation, mixed from the run's seed and what the generator is for. Stable across
/// processes and machines, unlike <see cref="HashCode"/>, which is randomised per process: the same seed must replay
/// the same schedule anywhere.
/// </summary>
internal static class StableSeed
{
    public static int Of(params ReadOnlySpan<int> parts)
    {
        // SplitMix64 over the parts in turn.
        var state = 0x9E3779B97F4A7C15UL;
        foreach (var part in parts)
        {
            state += unchecked((ulong)part) * 0xBF58476D1CE4E5B9UL + 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            state = z ^ (z >> 31);
        }

        return unchecked((int)state);
    }
}
