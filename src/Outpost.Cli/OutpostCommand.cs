using System.CommandLine;
using Outpost.Cli.Bench;
using Outpost.Cli.Commands;

namespace Outpost.Cli;

/// <summary>The <c>outpost</c> command line: one subcommand per job, each writing to the given output.</summary>
public static class OutpostCommand
{
    /// <summary>Parses and runs a command line; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Outpost: occasionally connected store servers. Run 'outpost demo' to see it work.");
        root.Subcommands.Add(DemoCommand.Create(output));
        root.Subcommands.Add(CentralCommand.Create(output));
        root.Subcommands.Add(StoreCommand.Create(output));
        root.Subcommands.Add(AgentCommand.Create(output));
        root.Subcommands.Add(PkiCommand.Create(output));
        root.Subcommands.Add(PriceCommand.Create(output));
        root.Subcommands.Add(ContractsCommand.Create(output));
        root.Subcommands.Add(FoodSafetyCommand.Create(output));
        root.Subcommands.Add(LogCommand.Create(output));
        root.Subcommands.Add(BenchCommand.Create(output));
        root.Subcommands.Add(Simulation.SimulateCommand.Create(output));
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await root.Parse(args).InvokeAsync(cancellationToken: interrupt.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
