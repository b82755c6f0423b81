namespace Outpost.Core.Log;

/// <summary>What a log holds, for health pages, metrics and the demo.</summary>
/// <param name="Head">The last committed sequence.</param>
/// <param name="Events">How many events the log holds now.</param>
/// <param name="Topics">Per topic: events held, payload bytes, evictions.</param>
/// <param name="DeadLetters">How many events are parked.</param>
/// <param name="CorruptRecordsSeen">How many corrupt records reads have met since the log was opened.</param>
public sealed record LogStats(long Head, long Events, IReadOnlyList<TopicStats> Topics, long DeadLetters, long CorruptRecordsSeen);

/// <summary>One topic's figures.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Events">Events held.</param>
/// <param name="PayloadBytes">Payload bytes held.</param>
/// <param name="EvictedEvents">Events evicted by the byte budget, ever.</param>
/// <param name="EvictedBytes">Payload bytes evicted, ever.</param>
public sealed record TopicStats(string Topic, long Events, long PayloadBytes, long EvictedEvents, long EvictedBytes);
