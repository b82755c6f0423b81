namespace Outpost.Core.Log;

/// <summary>
/// A stored record failed its checksum or could not be read from the file. The record is never
/// returned; the message names the sequence (or range) and what was wrong.
/// </summary>
public sealed class LogCorruptionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LogCorruptionException(long? seq, string message, Exception? innerException = null)
        : base(message, innerException) => Seq = seq;

    /// <summary>Creates the exception.</summary>
    public LogCorruptionException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public LogCorruptionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LogCorruptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The damaged record's sequence, when known.</summary>
    public long? Seq { get; }
}
