using Outpost.Core.Events;

namespace Outpost.Core.Log;

/// <summary>
/// One page of a read. <see cref="ScannedTo"/> is the sequence up to which the log was searched, which
/// can be past the last returned event when a filter skipped the rest: read on from there.
/// </summary>
/// <param name="Events">The matching events in sequence order.</param>
/// <param name="ScannedTo">Every event up to this sequence was considered.</param>
public sealed record EventPage(IReadOnlyList<StoredEvent> Events, long ScannedTo);
