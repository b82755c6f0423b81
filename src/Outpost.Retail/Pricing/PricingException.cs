namespace Outpost.Retail.Pricing;

/// <summary>What stops a scanned item from being priced.</summary>
public enum PricingProblem
{
    /// <summary>The code is not a valid GTIN or in-store barcode.</summary>
    BadBarcode = 0,

    /// <summary>The store does not sell the product (unknown or retired).</summary>
    UnknownProduct = 1,

    /// <summary>The product has no price for this store at that moment.</summary>
    NoPrice = 2,

    /// <summary>The quantity is not positive, or not whole for a product sold by the unit.</summary>
    BadQuantity = 3,
}

/// <summary>A scanned item that cannot be priced, with a message for the person at the till.</summary>
public sealed class PricingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PricingException(PricingProblem problem, string message, Exception? innerException = null)
        : base(message, innerException) => Problem = problem;

    /// <summary>Creates the exception.</summary>
    public PricingException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public PricingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PricingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What is wrong.</summary>
    public PricingProblem Problem { get; }
}
