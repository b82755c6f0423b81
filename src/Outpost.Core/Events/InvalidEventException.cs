namespace Outpost.Core.Events;

/// <summary>An event was refused before anything was written: the message says which field and why.</summary>
public sealed class InvalidEventException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidEventException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidEventException()
    {
    }
}
