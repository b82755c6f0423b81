using Outpost.Core.Log;

namespace Outpost.Central.Fleet;

/// <summary>An event one of HQ's read models could not read (a newer version, a bad payload) and parked so it could go on.</summary>
/// <param name="Consumer">The read model.</param>
/// <param name="Seq">The event's sequence in HQ's log.</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Type">Its type and version, for example <c>SaleCompleted.v2</c>.</param>
/// <param name="Origin">The node that recorded it: a store's id, or <c>hq</c>; null when retention has since removed the event.</param>
/// <param name="Attempts">How many times the read model tried it.</param>
/// <param name="Error">The read model's last error.</param>
/// <param name="ParkedAt">When it was parked.</param>
public sealed record ParkedEvent(string Consumer, long Seq, string Topic, string Type, string? Origin, int Attempts, string Error, DateTimeOffset ParkedAt);

/// <summary>How many events HQ's read models have parked, and the latest of them.</summary>
/// <param name="Total">Every parked event.</param>
/// <param name="Latest">The most recently parked, newest first.</param>
public sealed record ParkedEvents(long Total, IReadOnlyList<ParkedEvent> Latest)
{
    /// <summary>How many are listed at most.</summary>
    public const int Listed = 100;

    /// <summary>
    /// Counts HQ's dead letters, reads the latest <see cref="Listed"/> (never all of them: a rollout can park every
    /// sale of a store for a day, and the fleet page asks every 5 s) and names the store each event came from, reading
    /// each parked event once however many read models parked it. The link acknowledged these events (HQ holds them,
    /// untouched, in its log); what is parked is only a read model's view of them.
    /// </summary>
    public static async Task<ParkedEvents> ReadAsync(IEventLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var page = await log.GetLatestDeadLettersAsync(Listed, cancellationToken);
        var origins = new Dictionary<long, string?>();
        var latest = new List<ParkedEvent>(page.Latest.Count);
        foreach (var letter in page.Latest)
        {
            if (!origins.TryGetValue(letter.Seq, out var origin))
            {
                var read = await log.ReadAsync(letter.Seq - 1, ReadFilter.All, 1, cancellationToken);
                origins[letter.Seq] = origin = read.Events is [{ } e] && e.Seq == letter.Seq ? e.Origin.Node.Value : null;
            }

            latest.Add(new ParkedEvent(letter.Consumer, letter.Seq, letter.Topic, letter.Type, origin, letter.Attempts, letter.Error, letter.ParkedAt));
        }

        return new ParkedEvents(page.Total, latest);
    }
}
