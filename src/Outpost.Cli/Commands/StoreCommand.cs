using System.CommandLine;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Store;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Commands;

/// <summary><c>outpost store</c>: runs a store server until stopped.</summary>
internal static class StoreCommand
{
    public static Command Create(TextWriter output)
    {
        var id = new Option<string>("--id") { Description = "The store's id, as registered at HQ.", Required = true };
        var central = new Option<string?>("--central") { Description = "HQ's address, for example http://hq.example.com:5080/; without it the store runs alone." };
        var secret = new Option<string?>("--secret") { Description = "The store's secret from HQ (also OUTPOST_STORE_SECRET)." };
        var data = new Option<DirectoryInfo?>("--data") { Description = "The store's data folder (default data/<id>)." };
        var urls = new Option<string>("--urls") { Description = "Where devices connect.", DefaultValueFactory = _ => "http://127.0.0.1:5090" };
        var generate = new Option<int>("--generate") { Description = "Simulated tills: record sales until the store holds this many (resumes after a restart)." };
        var rate = new Option<int>("--rate") { Description = "With --generate: at most this many sales a second (0: as fast as the log takes them)." };
        var command = new Command("store", "Run a store server: the store's log, replication with HQ, device endpoints.");
        foreach (var option in new Option[] { id, central, secret, data, urls, generate, rate })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            var storeId = result.GetValue(id)!;
            var options = new StoreOptions
            {
                StoreId = storeId,
                DataDirectory = result.GetValue(data)?.FullName ?? Path.Combine("data", storeId),
                Urls = result.GetValue(urls)!,
                Topics = RetailTopics.Catalog,
            };
            if (result.GetValue(central) is { } address)
            {
                if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    output.WriteLine($"--central '{address}' is not an http(s) address such as http://127.0.0.1:5080/.");
                    return 2;
                }

                options.Sync.Central = uri;
            }

            options.Sync.Secret = result.GetValue(secret) ?? Environment.GetEnvironmentVariable("OUTPOST_STORE_SECRET") ?? "";
            if (options.Sync.Central is not null && options.Sync.Secret.Length == 0)
            {
                output.WriteLine("--central needs the store's secret: --secret or OUTPOST_STORE_SECRET.");
                return 2;
            }

            var target = result.GetValue(generate);
            await using var app = StoreHost.Build(options, builder =>
            {
                if (target > 0)
                {
                    builder.Services.AddHostedService(services => new SaleGenerator(services.GetRequiredService<IEventLog>(), target, result.GetValue(rate),
                        services.GetRequiredService<TimeProvider>(), output));
                }
            });
            await app.StartAsync(cancellationToken);
            output.WriteLine($"outpost store {storeId} listening on {app.Address()}");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
