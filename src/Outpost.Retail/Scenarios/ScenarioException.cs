namespace Outpost.Retail.Scenarios;

/// <summary>A scenario file is wrong: the message names the field (as a JSON path) and the problem.</summary>
public sealed class ScenarioException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScenarioException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException()
    {
    }
}
