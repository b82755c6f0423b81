namespace Outpost.Core.Log;

/// <summary>The outcome of appending one event.</summary>
/// <param name="Seq">The event's sequence in this log: new, or the one it already had (0 for a duplicate that retention has since removed).</param>
/// <param name="Duplicate">True when the log already held the event's origin and wrote nothing.</param>
public readonly record struct AppendResult(long Seq, bool Duplicate);
