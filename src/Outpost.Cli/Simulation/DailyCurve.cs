namespace Outpost.Cli.Simulation;

/// <summary>
/// How a store's sales spread over its local day: quiet nights, a morning peak, the lunch peak (the day's
/// busiest), an evening one. Sale times are drawn from it per store, from a seed, in the store's time zone.
/// </summary>
internal static class DailyCurve
{
    // Relative sales per local hour, 00:00 to 23:00.
    private static readonly double[] Weights =
        [0.05, 0.02, 0.02, 0.02, 0.05, 0.1, 0.3, 0.6, 1.1, 1.2, 1.0, 1.3, 2.2, 2.0, 1.1, 0.9, 1.0, 1.4, 1.5, 1.0, 0.6, 0.3, 0.15, 0.08];

    private static readonly double Total = Weights.Sum();

    /// <summary>The time zones the simulated stores are spread over, in turn.</summary>
    public static IReadOnlyList<string> Zones { get; } = ["Europe/London", "Europe/Paris", "Europe/Helsinki", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"];

    /// <summary>The zone of the fleet's store <paramref name="store"/>: the zones in turn.</summary>
    public static string ZoneOf(int store) => Zones[store % Zones.Count];

    /// <summary>The share of a day's sales made in a local hour.</summary>
    public static double Share(int localHour) => Weights[localHour] / Total;

    /// <summary>
    /// The moments (simulated time from <paramref name="start"/>) of a store's sales over <paramref name="span"/>: a
    /// Poisson process whose rate follows the curve in the store's zone, <paramref name="perDay"/> sales a day.
    /// </summary>
    public static List<TimeSpan> SaleTimes(int seed, int store, string zone, DateTimeOffset start, TimeSpan span, int perDay)
    {
        var random = new Random(StableSeed.Of(seed, store, 0x5a1e));
        var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
        var peak = Weights.Max() / Total * perDay; // sales an hour at the busiest hour: the thinning bound
        var times = new List<TimeSpan>();
        var at = TimeSpan.Zero;
        while (true)
        {
            at += TimeSpan.FromHours(-Math.Log(1 - random.NextDouble()) / peak);
            if (at >= span)
            {
                return times;
            }

            var hour = TimeZoneInfo.ConvertTime(start + at, tz).Hour;
            if (random.NextDouble() < Share(hour) * perDay / peak)
            {
                times.Add(at);
            }
        }
    }
}
