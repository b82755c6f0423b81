namespace Outpost.Core.Topics;

/// <summary>Where a topic's events travel.</summary>
public enum TopicDirection
{
    /// <summary>Stays in the node that recorded it.</summary>
    Local = 0,

    /// <summary>From a store up to HQ.</summary>
    Up = 1,

    /// <summary>From HQ down to the stores in the event's scope.</summary>
    Down = 2,
}
