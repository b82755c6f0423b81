using System.CommandLine;
using Microsoft.Extensions.Configuration;
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
        var id = new Option<string?>("--id") { Description = "The store's id, as registered at HQ (or StoreId in appsettings.json / OUTPOST_STORE_StoreId)." };
        var region = new Option<string?>("--region") { Description = "The store's region." };
        var timeZone = new Option<string?>("--time-zone") { Description = "The store's IANA time zone, for example Europe/Paris." };
        var adminToken = new Option<string?>("--admin-token") { Description = "A back-office token to enrol the first devices (also OUTPOST_STORE_AdminToken); one is generated and printed when none is given." };
        var settings = new Option<FileInfo?>("--settings") { Description = "A JSON settings file (default: appsettings.json in the working folder, if present)." };
        var central = new Option<string?>("--central") { Description = "HQ's address, for example http://hq.example.com:5080/; without it the store runs alone." };
        var secret = new Option<string?>("--secret") { Description = "The store's secret from HQ (also OUTPOST_STORE_SECRET)." };
        var data = new Option<DirectoryInfo?>("--data") { Description = "The store's data folder (default data/<id>)." };
        var urls = new Option<string?>("--urls") { Description = "Where devices connect (default http://127.0.0.1:5090)." };
        var generate = new Option<int>("--generate") { Description = "Simulated tills: record sales until the store holds this many (resumes after a restart)." };
        var rate = new Option<int>("--rate") { Description = "With --generate: at most this many sales a second (0: as fast as the log takes them)." };
        var command = new Command("store", "Run a store server: the store's log, replication with HQ, device endpoints.");
        foreach (var option in new Option[] { id, region, timeZone, adminToken, settings, central, secret, data, urls, generate, rate })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            // Settings: appsettings.json, then OUTPOST_STORE_* environment variables, then command-line flags.
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(result.GetValue(settings)?.FullName ?? Path.GetFullPath("appsettings.json"), optional: result.GetValue(settings) is null)
                .AddEnvironmentVariables("OUTPOST_STORE_")
                .Build();
            var options = new StoreOptions { Topics = RetailTopics.Catalog, Urls = "http://127.0.0.1:5090" };
            configuration.Bind(options);
            options.StoreId = result.GetValue(id) ?? configuration["StoreId"] ?? "";
            if (!Outpost.Core.Events.Scope.IsValidId(options.StoreId))
            {
                output.WriteLine("Give the store's id: --id, StoreId in appsettings.json, or OUTPOST_STORE_StoreId.");
                return 2;
            }

            options.DataDirectory = result.GetValue(data)?.FullName ?? configuration["DataDirectory"] ?? Path.Combine("data", options.StoreId);
            options.Urls = result.GetValue(urls) ?? options.Urls;
            options.Region = result.GetValue(region) ?? options.Region;
            options.TimeZone = result.GetValue(timeZone) ?? options.TimeZone;
            options.AdminToken = result.GetValue(adminToken) ?? options.AdminToken ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            var storeId = options.StoreId;
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
            output.WriteLine($"back office: {app.Address()}backoffice.html (admin token: {options.AdminToken})");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
