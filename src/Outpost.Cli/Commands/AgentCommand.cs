using System.CommandLine;
using System.Globalization;
using k8s;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Outpost.Deploy;

namespace Outpost.Cli.Commands;

/// <summary><c>outpost agent</c>: runs a store's deploy agent until stopped.</summary>
internal static class AgentCommand
{
    public static Command Create(TextWriter output)
    {
        var store = new Option<string?>("--store") { Description = "The store server's address (default http://127.0.0.1:5090/; also OUTPOST_AGENT_STORE)." };
        var token = new Option<string?>("--token") { Description = "The agent's device token from the store's back office, role 'agent' (also OUTPOST_AGENT_TOKEN, which keeps it out of the process list)." };
        var state = new Option<DirectoryInfo?>("--state") { Description = "The agent's folder: what it applied, reports not yet sent (default: agent; also OUTPOST_AGENT_STATE)." };
        var runtimeName = new Option<string>("--runtime") { Description = "How the store server runs: podman (podman kube play of --manifest) or kubernetes (the store Deployment, through the API server).", DefaultValueFactory = _ => "podman" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "With podman: the store's manifest as installed (the rendered overlays/podman-store, Secrets already podman secrets)." };
        var ns = new Option<string?>("--namespace") { Description = "With kubernetes: the store's namespace (default: the service account's)." };
        var soak = new Option<int>("--soak-seconds") { Description = "How long a started release must stay healthy.", DefaultValueFactory = _ => 120 };
        var startLimit = new Option<int>("--start-seconds") { Description = "How long a started release may take to answer ready.", DefaultValueFactory = _ => 120 };
        var poll = new Option<int>("--poll-seconds") { Description = "How often to ask the store what is desired.", DefaultValueFactory = _ => 10 };
        var health = new Option<string?>("--health-urls")
        {
            Description = "Serve /health/live and /health/ready here (for a cluster's probes), for example http://0.0.0.0:5099; none by default.",
        };
        var insecure = new Option<string[]>("--insecure-registry")
        {
            Description = "A registry (host:port) pulled from over plain HTTP (repeatable).",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("agent", "Run a store's deploy agent: converges the store server on the release HQ wants, with a health soak and rollback.");
        foreach (var option in new Option[] { store, token, state, runtimeName, manifest, ns, soak, startLimit, poll, health, insecure })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            var address = result.GetValue(store) ?? Environment.GetEnvironmentVariable("OUTPOST_AGENT_STORE") ?? "http://127.0.0.1:5090/";
            if (StartupChecks.HttpAddress(address) is not { } storeUri)
            {
                output.WriteLine($"The store's address '{address}' (--store, OUTPOST_AGENT_STORE) is not an http(s) address such as http://127.0.0.1:5090/.");
                return StartupChecks.BadSettings;
            }

            var agentToken = result.GetValue(token) ?? Environment.GetEnvironmentVariable("OUTPOST_AGENT_TOKEN") ?? "";
            if (agentToken.Length == 0)
            {
                output.WriteLine("Give the agent's device token: --token or OUTPOST_AGENT_TOKEN (enrol a device with the role 'agent' at the store's back office).");
                return StartupChecks.BadSettings;
            }

            var stateDirectory = result.GetValue(state)?.FullName ?? Environment.GetEnvironmentVariable("OUTPOST_AGENT_STATE") ?? Path.GetFullPath("agent");
            if (StartupChecks.WritableDirectory(stateDirectory) is { } why)
            {
                output.WriteLine($"The agent's folder '{stateDirectory}' (--state, OUTPOST_AGENT_STATE) is not writable: {why}");
                return StartupChecks.BadSettings;
            }

            var options = new DeployAgentOptions
            {
                Store = storeUri,
                Token = agentToken,
                StateDirectory = stateDirectory,
                SoakTime = TimeSpan.FromSeconds(result.GetValue(soak)),
                StartLimit = TimeSpan.FromSeconds(result.GetValue(startLimit)),
                SyncResumeLimit = TimeSpan.FromSeconds(Math.Max(result.GetValue(soak), result.GetValue(startLimit))),
                PollInterval = TimeSpan.FromSeconds(Math.Max(1, result.GetValue(poll))),
                InsecureRegistries = result.GetValue(insecure) ?? [],
            };
            if (Runtime(result.GetValue(runtimeName)!, result.GetValue(manifest), result.GetValue(ns), options, output) is not { } runtime)
            {
                return StartupChecks.BadSettings;
            }

            using var host = Build(options, runtime, result.GetValue(health));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"outpost agent for {storeUri} ({runtime.Name}), soak {options.SoakTime.TotalSeconds:0} s, state in {stateDirectory}"));
            await host.RunAsync(cancellationToken);
            output.WriteLine("outpost agent stopped");
            return 0;
        });
        return command;
    }

    // The agent's host: a plain one, or with --health-urls a web host answering the probes of the cluster it runs in.
    // Live: the process answers. Ready: it has finished a pass (a pass that failed still counts: it says why and goes on).
    private static IHost Build(DeployAgentOptions options, IStoreRuntime runtime, string? healthUrls)
    {
        void Register(IServiceCollection services)
        {
            services.AddSingleton(options);
            services.AddSingleton(runtime);
            services.AddSingleton(new StoreLink(new HttpClient { BaseAddress = options.Store, Timeout = TimeSpan.FromSeconds(10) }, options.Token));
            services.AddSingleton<DeployAgent>();
            services.AddHostedService(provider => provider.GetRequiredService<DeployAgent>());
        }

        if (healthUrls is null)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
            Register(builder.Services);
            return builder.Build();
        }

        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.UseUrls(healthUrls);
        web.Logging.AddSimpleConsole(console => console.SingleLine = true);
        Register(web.Services);
        var app = web.Build();
        app.MapGet("/health/live", () => Results.Text("live"));
        app.MapGet("/health/ready", (DeployAgent agent) => agent.LastPass is { } at
            ? Results.Text($"ready: last pass {at:O}{(agent.LastError is { } error ? $" (failed: {error})" : "")}")
            : Results.Text("not ready: no pass finished yet", statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }

    private static IStoreRuntime? Runtime(string name, FileInfo? manifest, string? @namespace, DeployAgentOptions options, TextWriter output)
    {
        switch (name)
        {
            case "podman" when manifest is { Exists: true }:
                return new PodmanRuntime(manifest.FullName, options.StateDirectory, options.InsecureRegistries);
            case "podman":
                output.WriteLine("With --runtime podman, give the store's manifest as installed: --manifest FILE (an existing file).");
                return null;
            case "kubernetes":
                // In the store's cluster: the pod's service account; elsewhere: the kubeconfig (KUBECONFIG or ~/.kube/config).
                var config = KubernetesClientConfiguration.IsInCluster()
                    ? KubernetesClientConfiguration.InClusterConfig()
                    : KubernetesClientConfiguration.BuildConfigFromConfigFile();
                return new KubernetesRuntime(new Kubernetes(config), @namespace ?? config.Namespace ?? "default")
                {
                    RolloutLimit = options.StartLimit,
                };
            default:
                output.WriteLine($"The runtime '{name}' (--runtime) is not one the agent knows: podman or kubernetes.");
                return null;
        }
    }
}
