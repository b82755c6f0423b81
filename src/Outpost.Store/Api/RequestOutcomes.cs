namespace Outpost.Store.Api;

/// <summary>
/// How many requests this store server process has answered, and how many of them with a server error (5xx): what the
/// deploy agent compares between the version it replaced and the one it started (<c>GET /api/deploy/health</c>).
/// </summary>
public sealed class RequestOutcomes
{
    private long _requests;
    private long _serverErrors;

    /// <summary>Requests answered since the process started.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Of those, answered with a status of 500 or more.</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    /// <summary>Counts one answered request.</summary>
    public void Count(int statusCode)
    {
        Interlocked.Increment(ref _requests);
        if (statusCode >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
        }
    }
}

/// <summary>When this store server process started.</summary>
public sealed record ProcessStart(DateTimeOffset At);
