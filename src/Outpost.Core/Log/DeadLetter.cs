namespace Outpost.Core.Log;

/// <summary>An event a consumer could not handle after its attempts, parked so the consumer could go on.</summary>
/// <param name="Consumer">The consumer's name.</param>
/// <param name="Seq">The event's sequence.</param>
/// <param name="Topic">The event's topic.</param>
/// <param name="Type">The event's type and version, for example <c>SaleCompleted.v2</c>.</param>
/// <param name="Attempts">How many times it was tried.</param>
/// <param name="Error">The last error.</param>
/// <param name="ParkedAt">When it was parked.</param>
public sealed record DeadLetter(string Consumer, long Seq, string Topic, string Type, int Attempts, string Error, DateTimeOffset ParkedAt)
{
    /// <summary>The topic and type of a parked record that was damaged on disk: unknown, since the log never serves it.</summary>
    public const string DamagedRecord = "(damaged record)";
}

/// <summary>How many events are parked, and the most recently parked of them, newest first.</summary>
/// <param name="Total">Every parked event.</param>
/// <param name="Latest">The newest, at most as many as asked for.</param>
public sealed record DeadLetterPage(long Total, IReadOnlyList<DeadLetter> Latest);
