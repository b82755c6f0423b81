namespace Outpost.Store.Tests;

/// <summary>
/// Tests that read a store's request counts from its <c>/metrics</c> run alone. OpenTelemetry listens to ASP.NET Core's
/// meter by name, process-wide, so with several hosts in this test process one store's <c>/metrics</c> counts every
/// host's requests, and drops a host's counts when that host stops (a count seen to go down by 5 in CI). A store server in
/// production is the only host in its process; here the tests that depend on it run with no other test beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OneHostMetrics
{
    /// <summary>The collection's name.</summary>
    public const string Name = "one host's metrics";
}
