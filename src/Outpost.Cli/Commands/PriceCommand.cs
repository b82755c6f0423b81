using System.CommandLine;
using System.Text.Json;
using Outpost.Retail.Scenarios;

namespace Outpost.Cli.Commands;

/// <summary><c>outpost price --scenario FILE</c>: prices baskets with the store's engine, no server needed.</summary>
internal static class PriceCommand
{
    public static Command Create(TextWriter output)
    {
        var scenario = new Option<FileInfo>("--scenario") { Description = "The scenario file (docs/retail.md describes it).", Required = true };
        var format = new Option<string>("--format") { Description = "json or text (a receipt).", DefaultValueFactory = _ => "json" };
        var command = new Command("price", "Price baskets against products, prices, campaigns and promotions, exactly as a store would.");
        command.Options.Add(scenario);
        command.Options.Add(format);
        command.SetAction(async (result, cancellationToken) =>
        {
            var file = result.GetValue(scenario)!;
            var style = result.GetValue(format);
            if (style is not ("json" or "text"))
            {
                output.WriteLine($"--format '{style}' is not known; use json or text.");
                return 2;
            }

            if (!file.Exists)
            {
                output.WriteLine($"No scenario file at '{file.FullName}'.");
                return 2;
            }

            var work = Path.Combine(Path.GetTempPath(), "outpost-price-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var loaded = ScenarioRunner.Load(await File.ReadAllTextAsync(file.FullName, cancellationToken));
                var priced = await ScenarioRunner.RunAsync(loaded, work, cancellationToken);
                output.Write(style == "text" ? ScenarioRunner.Receipts(priced) : JsonSerializer.Serialize(priced, ScenarioJsonContext.Default.IReadOnlyListPricedScenarioBasket) + Environment.NewLine);
                return 0;
            }
            catch (ScenarioException ex)
            {
                output.WriteLine($"{file.Name}: {ex.Message}");
                return 1;
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        });
        return command;
    }
}
