namespace Outpost.Deploy;

/// <summary>How a store's deploy agent works (<c>outpost agent</c>).</summary>
public sealed class DeployAgentOptions
{
    /// <summary>The store server's address, for example http://127.0.0.1:5090/.</summary>
    public Uri Store { get; set; } = new("http://127.0.0.1:5090/");

    /// <summary>The agent's device token (a device enrolled at the store's back office with the role "agent").</summary>
    public string Token { get; set; } = "";

    /// <summary>Where the agent keeps what it has applied and the reports not yet taken by the store.</summary>
    public string StateDirectory { get; set; } = "agent";

    /// <summary>How often the agent asks the store what is desired.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a started release must stay healthy before the agent calls it healthy.</summary>
    public TimeSpan SoakTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a started release may take to answer ready with its version.</summary>
    public TimeSpan StartLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a started release may take to reach HQ again, when the version it replaced reached it.</summary>
    public TimeSpan SyncResumeLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Restarts of the store's container during a start or a soak that make a crash loop.</summary>
    public int CrashLoopRestarts { get; set; } = 2;

    /// <summary>How much the share of server errors (5xx) may exceed the replaced version's before the release is unhealthy.</summary>
    public decimal ErrorRateMargin { get; set; } = 0.01m;

    /// <summary>Registries (host:port) pulled from over plain HTTP.</summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; set; } = [];

    /// <summary>The clock (injected so that tests and simulations control it).</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
