namespace Outpost.Sync.Agent;

/// <summary>Whether the store reaches HQ.</summary>
public enum ConnectivityState
{
    /// <summary>Both links work.</summary>
    Online = 0,

    /// <summary>One link fails, or HQ refuses what the store sends.</summary>
    Degraded = 1,

    /// <summary>No request has succeeded for a while.</summary>
    Offline = 2,
}

/// <summary>The store's link to HQ, as the back office and the fleet view show it.</summary>
/// <param name="State">Online, degraded or offline.</param>
/// <param name="Since">When the state began.</param>
/// <param name="LastError">The last failure, if any since the last success.</param>
/// <param name="UpBacklog">The store's events not yet acknowledged by HQ.</param>
/// <param name="DownLag">HQ events the store has not received yet, as of the last answer.</param>
/// <param name="LastUpSuccess">When HQ last acknowledged an up batch.</param>
/// <param name="LastDownSuccess">When HQ last answered a down request.</param>
/// <param name="NotSent">Damaged records of the store's log the up link stepped over: never sent to HQ, and reported to it.</param>
/// <param name="LastNotSent">The log position of the latest of them (0 when none).</param>
public sealed record ConnectivityStatus(ConnectivityState State, DateTimeOffset Since, string? LastError, long UpBacklog, long DownLag,
    DateTimeOffset? LastUpSuccess, DateTimeOffset? LastDownSuccess, int NotSent = 0, long LastNotSent = 0)
{
    /// <summary>What the store tells HQ of its damaged records, or null when there are none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? NotSentProblem => NotSent == 0 ? null
        : $"{NotSent} damaged record(s) of the store's log not sent to HQ (the latest: event {LastNotSent}); run 'outpost log verify' on the store's log";
}
