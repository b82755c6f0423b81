namespace Outpost.Retail;

/// <summary>What kind of problem a retail operation met, so a host can answer with the right status.</summary>
public enum RetailProblem
{
    /// <summary>Bad input (quantity, amount, line number).</summary>
    Invalid = 0,

    /// <summary>No such basket, sale or line.</summary>
    NotFound = 1,

    /// <summary>Not allowed in the basket's current state (for example scanning after a tender).</summary>
    Conflict = 2,

    /// <summary>A payment or redemption was refused.</summary>
    Refused = 3,
}

/// <summary>A retail operation (checkout, orders, campaigns) that cannot be done; the message is for the person at the device. Nothing changed.</summary>
public sealed class RetailException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="problem">What kind of problem.</param>
    /// <param name="message">What is wrong, for the person at the device.</param>
    /// <param name="innerException">The cause, if any.</param>
    /// <param name="field">The input at fault (<c>code</c>, <c>quantity</c>), when it is one.</param>
    public RetailException(RetailProblem problem, string message, Exception? innerException = null, string? field = null)
        : base(message, innerException)
    {
        Problem = problem;
        Field = field;
    }

    /// <summary>Creates the exception.</summary>
    public RetailException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RetailException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RetailException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What kind of problem.</summary>
    public RetailProblem Problem { get; }

    /// <summary>The input at fault (<c>code</c>: the scanned barcode, <c>quantity</c>), or null.</summary>
    public string? Field { get; }
}
