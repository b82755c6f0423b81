using System.CommandLine;
using Outpost.FoodSafety;

namespace Outpost.Cli.Commands;

/// <summary>
/// <c>outpost food-safety</c>: the food-safety service, a process of its own beside the store server (the same image with
/// this command), which knows the store only through its event API.
/// </summary>
internal static class FoodSafetyCommand
{
    public static Command Create(TextWriter output)
    {
        var store = new Option<string>("--store") { Description = "The store server, e.g. http://127.0.0.1:5090.", Required = true };
        var token = new Option<string?>("--token") { Description = "The service's token from the back office (or OUTPOST_FOOD_SAFETY_TOKEN)." };
        var data = new Option<DirectoryInfo>("--data") { Description = "The service's own data folder.", DefaultValueFactory = _ => new DirectoryInfo("food-safety") };
        var min = new Option<decimal>("--min") { Description = "The lowest safe temperature, °C.", DefaultValueFactory = _ => 0m };
        var max = new Option<decimal>("--max") { Description = "The highest safe temperature, °C.", DefaultValueFactory = _ => 5m };
        var after = new Option<TimeSpan>("--alarm-after") { Description = "How long outside the range before the alarm (hh:mm:ss).", DefaultValueFactory = _ => TimeSpan.FromMinutes(15) };
        var haccp = new Option<TimeSpan>("--haccp-every") { Description = "One HACCP record per fridge per this period (hh:mm:ss).", DefaultValueFactory = _ => TimeSpan.FromHours(1) };
        var health = new Option<string?>("--health-urls")
        {
            Description = "Serve /health/live and /health/ready here (for a cluster's probes), for example http://0.0.0.0:5098; none by default.",
        };
        var command = new Command("food-safety", "Food-safety monitoring: fridge temperatures from the store's equipment readings, alarms when out of range too long, HACCP records.");
        foreach (var option in new Option[] { store, token, data, min, max, after, haccp, health })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            if (!Uri.TryCreate(result.GetValue(store), UriKind.Absolute, out var storeUri))
            {
                output.WriteLine($"The store '{result.GetValue(store)}' (--store) is not an address such as http://127.0.0.1:5090.");
                return StartupChecks.BadSettings;
            }

            var options = new FoodSafetyOptions
            {
                Store = storeUri,
                Token = result.GetValue(token) ?? Environment.GetEnvironmentVariable("OUTPOST_FOOD_SAFETY_TOKEN") ?? "",
                DataDirectory = result.GetValue(data)!.FullName,
                MinCelsius = result.GetValue(min),
                MaxCelsius = result.GetValue(max),
                AlarmAfter = result.GetValue(after),
                HaccpEvery = result.GetValue(haccp),
            };
            if (options.Store.Scheme is not ("http" or "https") || options.Token.Length == 0 || options.MinCelsius >= options.MaxCelsius
                || options.AlarmAfter < TimeSpan.Zero || options.HaccpEvery <= TimeSpan.Zero)
            {
                output.WriteLine("food-safety needs --store http(s)://…, a token (--token or OUTPOST_FOOD_SAFETY_TOKEN), --min below --max, and positive periods.");
                return StartupChecks.BadSettings;
            }

            try
            {
                var service = new FoodSafetyService(options, output, TimeProvider.System);
                if (result.GetValue(health) is not { } urls)
                {
                    await service.RunAsync(cancellationToken);
                    return 0;
                }

                // Live: the process answers. Ready: it holds its subscription's stream open.
                var web = WebApplication.CreateSlimBuilder();
                web.WebHost.UseUrls(urls);
                web.Logging.ClearProviders();
                await using var app = web.Build();
                app.MapGet("/health/live", () => Results.Text("live"));
                app.MapGet("/health/ready", () => service.Following
                    ? Results.Text($"ready: applied through {service.Applied}")
                    : Results.Text($"not ready: not following the store{(service.LastError is { } error ? $" ({error})" : "")}", statusCode: StatusCodes.Status503ServiceUnavailable));
                await app.StartAsync(cancellationToken);
                try
                {
                    await service.RunAsync(cancellationToken);
                }
                finally
                {
                    await app.StopAsync(CancellationToken.None);
                }

                return 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (FoodSafetyStoppedException ex)
            {
                output.WriteLine($"food-safety stopped: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
