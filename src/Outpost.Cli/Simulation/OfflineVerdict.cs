namespace Outpost.Cli.Simulation;

/// <summary>What <c>outpost simulate --offline-days N</c> proved, written as <c>verdict.json</c>.</summary>
internal sealed record OfflineVerdict
{
    public int Seed { get; init; }

    /// <summary>The command that runs it again.</summary>
    public string Command { get; init; } = "";

    public int Stores { get; init; }

    public int Days { get; init; }

    public int SalesPerDay { get; init; }

    /// <summary>Sales the tills saw completed while offline.</summary>
    public int Acknowledged { get; init; }

    /// <summary>Sales a till gave up on (the store refused a step): none expected.</summary>
    public int FailedAtTill { get; init; }

    public int StoredAtHq { get; init; }

    /// <summary>Acknowledged sales missing at their store or at HQ: must be 0.</summary>
    public int Lost { get; init; }

    /// <summary>Extra copies at HQ: must be 0.</summary>
    public int Doubled { get; init; }

    /// <summary>Sale lines not at the price in effect on their store's local day (the first 20): must be none.</summary>
    public IReadOnlyList<string> WrongPrices { get; init; } = [];

    /// <summary>Sales where the dated promotion applied outside its days or not within them (the first 20): must be none.</summary>
    public IReadOnlyList<string> WrongPromotions { get; init; } = [];

    /// <summary>Card payments approved offline.</summary>
    public int CardOffline { get; init; }

    /// <summary>Card payments the store refused offline because they were above the floor limit (the till took cash).</summary>
    public int CardRefusedAboveFloor { get; init; }

    /// <summary>Card tenders at HQ approved online or above the floor limit during the outage: must be 0.</summary>
    public int CardOverFloorOrOnline { get; init; }

    /// <summary>Offline approvals the payment host received once it answered again: must equal <see cref="CardOffline"/>.</summary>
    public int CardForwarded { get; init; }

    /// <summary>Real seconds from the catch-up's end until the payment host held every offline approval.</summary>
    public double CardForwardedSeconds { get; init; }

    /// <summary>Sales HQ held just before the link returned: must be 0 (the stores were cut off).</summary>
    public long SalesAtHqBeforeReturn { get; init; }

    public double OfflineRealSeconds { get; init; }

    /// <summary>How much a store's files (log, its WAL, baskets) grew per offline day, on average.</summary>
    public double DataBytesPerStoreDay { get; init; }

    /// <summary>A store's files at the end of each offline day (the average over the stores).</summary>
    public IReadOnlyList<long> DataBytesByDay { get; init; } = [];

    /// <summary>Each budgeted topic at the fullest store against its budget.</summary>
    public IReadOnlyList<string> Budgets { get; init; } = [];

    /// <summary>Real seconds from the link's return until each store was online with nothing waiting and HQ held all its sales, in order.</summary>
    public IReadOnlyList<double> CatchUpSeconds { get; init; } = [];

    /// <summary>A sale's events (sale, payment, receipt) HQ took per real second of the slowest catch-up.</summary>
    public double CatchUpEventsPerSecond { get; init; }

    /// <summary>The verdict in lines of text, as the command prints it.</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        var c = System.Globalization.CultureInfo.InvariantCulture;
        text.AppendLine(c, $"  sales while offline: acknowledged to tills {Acknowledged:N0}, failed at a till {FailedAtTill}, stored at HQ {StoredAtHq:N0}; lost {Lost}, applied twice {Doubled} (must both be 0)");
        text.AppendLine(c, $"  prices in effect on each store-local day: {(WrongPrices.Count == 0 ? "every line" : $"{WrongPrices.Count}+ lines wrong")}; the dated promotion on its days only: {(WrongPromotions.Count == 0 ? "yes" : $"{WrongPromotions.Count}+ sales wrong")}");
        foreach (var line in WrongPrices.Concat(WrongPromotions).Take(10))
        {
            text.AppendLine(c, $"    {line}");
        }

        text.AppendLine(c, $"  card payments: {CardOffline:N0} approved offline, {CardRefusedAboveFloor:N0} refused above the floor limit (cash instead), {CardOverFloorOrOnline} over the limit or online (must be 0); forwarded to the payment host once it answered: {CardForwarded:N0}, within {CardForwardedSeconds:F0} s");
        text.AppendLine(c, $"  a store's files grew {DataBytesPerStoreDay / 1024 / 1024:F2} MiB per offline day at {SalesPerDay} sales a day ({string.Join(", ", DataBytesByDay.Select(b => (b / 1024.0 / 1024).ToString("F1", c)))} MiB at each day's end); budgets: {string.Join("; ", Budgets)}");
        text.AppendLine(c, $"  sales at HQ just before the link returned: {SalesAtHqBeforeReturn} (must be 0: cut off)");
        text.AppendLine(c, $"  catch-up after {Days} days (real seconds until online with nothing waiting and HQ holding every sale): {string.Join(", ", CatchUpSeconds.Select(s => s.ToString("F1", c)))}; {CatchUpEventsPerSecond:N0} events a second into HQ");
        text.AppendLine(c, $"  {Days} offline days took {OfflineRealSeconds:F0} s real");
        return text.ToString();
    }

    public bool Passed => SalesAtHqBeforeReturn == 0 && Lost == 0 && Doubled == 0 && FailedAtTill == 0 && Acknowledged > 0 && StoredAtHq == Acknowledged && WrongPrices.Count == 0 && WrongPromotions.Count == 0
        && CardOverFloorOrOnline == 0 && CardForwarded == CardOffline && !Budgets.Any(b => b.EndsWith("OVER", StringComparison.Ordinal));
}
