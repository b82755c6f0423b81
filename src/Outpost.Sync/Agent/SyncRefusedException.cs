namespace Outpost.Sync.Agent;

/// <summary>HQ answered a sync request with a 4xx: the request itself is wrong, so retrying alone will not help.</summary>
public sealed class SyncRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SyncRefusedException(int status, string message)
        : base(message) => Status = status;

    /// <summary>Creates the exception.</summary>
    public SyncRefusedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public SyncRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SyncRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }
}

/// <summary>HQ does not serve the streamed down feed (it predates it): the store long-polls instead.</summary>
public sealed class DownStreamUnsupportedException : Exception
{
    /// <summary>Creates the exception with its standard message.</summary>
    public DownStreamUnsupportedException()
        : base("HQ does not serve the streamed down feed; long-polling instead.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DownStreamUnsupportedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public DownStreamUnsupportedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
