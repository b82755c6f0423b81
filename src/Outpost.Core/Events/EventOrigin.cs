namespace Outpost.Core.Events;

/// <summary>
/// Where and when an event was first recorded: the origin node, its sequence number there and its
/// hybrid logical clock timestamp. <c>(Node, Seq)</c> identifies an event everywhere.
/// </summary>
/// <param name="Node">The node that first recorded the event.</param>
/// <param name="Seq">The event's origin sequence number, 1 for the first event a node records.</param>
/// <param name="Timestamp">The origin's hybrid logical clock timestamp.</param>
public readonly record struct EventOrigin(NodeId Node, long Seq, HlcTimestamp Timestamp);
