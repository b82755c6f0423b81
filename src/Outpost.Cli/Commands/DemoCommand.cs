using System.CommandLine;

namespace Outpost.Cli.Commands;

/// <summary>
/// <c>outpost demo</c>: on this machine, with nothing to install: first a store's event log at work, then HQ
/// and three stores replicating both ways over loopback, with one store's link pulled and restored.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output)
    {
        var sales = new Option<int>("--sales") { Description = "How many sales the tills of part 1 record.", DefaultValueFactory = _ => 5000 };
        var tills = new Option<int>("--tills") { Description = "How many tills sell at once in part 1.", DefaultValueFactory = _ => 8 };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Where to keep the logs (default: a new temp folder)." };
        var serve = new Option<bool>("--serve") { Description = "Instead: keep HQ and two stores up with the device pages, and print their addresses (Ctrl+C ends)." };
        var command = new Command("demo", "See Outpost work: a store's event log, then HQ and three stores replicating, one of them cut off and back.");
        command.Options.Add(sales);
        command.Options.Add(tills);
        command.Options.Add(data);
        command.Options.Add(serve);
        command.SetAction(async (result, cancellationToken) =>
        {
            var count = result.GetValue(sales);
            var tillCount = result.GetValue(tills);
            if (count < 1 || tillCount < 1)
            {
                output.WriteLine("--sales and --tills must be at least 1.");
                return 2;
            }

            var directory = result.GetValue(data)?.FullName ?? Path.Combine(Path.GetTempPath(), "outpost-demo-" + Guid.NewGuid().ToString("N")[..8]);
            if (result.GetValue(serve))
            {
                await ServeDemo.RunAsync(output, Console.In, directory, cancellationToken);
                return 0;
            }

            await LogDemo.RunAsync(output, directory, count, tillCount, cancellationToken);
            output.WriteLine();
            await FleetDemo.RunAsync(output, Path.Combine(directory, "fleet"), cancellationToken);
            return 0;
        });
        return command;
    }
}
