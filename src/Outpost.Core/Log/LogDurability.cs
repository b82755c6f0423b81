namespace Outpost.Core.Log;

/// <summary>SQLite's <c>synchronous</c> setting for the log.</summary>
public enum LogDurability
{
    /// <summary><c>synchronous=FULL</c>: a commit survives power loss. The default.</summary>
    Full = 0,

    /// <summary><c>synchronous=NORMAL</c>: a commit survives a process crash; the last commits can be lost on power loss.</summary>
    Normal = 1,
}
