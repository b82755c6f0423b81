namespace Outpost.Sync.Protocol;

/// <summary>A batch on the wire is malformed, truncated, corrupted or too large; nothing of it is applied.</summary>
public sealed class BatchFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BatchFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BatchFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BatchFormatException()
    {
    }
}
