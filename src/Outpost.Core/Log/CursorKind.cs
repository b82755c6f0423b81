namespace Outpost.Core.Log;

/// <summary>What a named cursor tracks, which decides whether it holds back retention.</summary>
public enum CursorKind
{
    /// <summary>A durable consumer's checkpoint in this log: no event is deleted before every consumer has passed it.</summary>
    Consumer = 0,

    /// <summary>An up link's acknowledged position in this log: no up-topic event is deleted before it is replicated.</summary>
    Replication = 1,

    /// <summary>A position in another node's log (a down link's cursor): it does not hold back retention here.</summary>
    Remote = 2,
}
