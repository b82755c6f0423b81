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
        var businessDay = new Option<TimeSpan?>("--business-day-starts") { Description = "When the store's trading day begins, store-local (default 00:00; 04:00 for a store open until 2 am)." };
        var eventVersions = new Option<Outpost.Retail.Checkout.EventVersions?>("--event-versions")
        {
            Description = "Which versions of its sales the store writes: Current (default) or Previous (the previous release's, while a rollout may still be rolled back or HQ is not upgraded).",
        };
        var adminToken = new Option<string?>("--admin-token") { Description = "A back-office token to enrol the first devices (also OUTPOST_STORE_AdminToken); one is generated and printed when none is given." };
        var settings = new Option<FileInfo?>("--settings") { Description = "A JSON settings file (default: appsettings.json in the working folder, if present)." };
        var central = new Option<string?>("--central") { Description = "HQ's address, for example http://hq.example.com:5080/; without it the store runs alone." };
        var secret = new Option<string?>("--secret") { Description = "The store's secret from HQ (also OUTPOST_STORE_SECRET)." };
        var data = new Option<DirectoryInfo?>("--data") { Description = "The store's data folder (default data/<id>)." };
        var urls = new Option<string?>("--urls") { Description = "Where devices connect (default http://127.0.0.1:5090)." };
        var generate = new Option<int>("--generate") { Description = "Simulated tills: record sales until the store holds this many (resumes after a restart)." };
        var rate = new Option<int>("--rate") { Description = "With --generate: at most this many sales a second (0: as fast as the log takes them)." };
        var logs = new LogFlags("OUTPOST_STORE_LOG_");
        var command = new Command("store", "Run a store server: the store's log, replication with HQ, device endpoints.");
        foreach (var option in new Option[] { id, region, timeZone, businessDay, eventVersions, adminToken, settings, central, secret, data, urls, generate, rate })
        {
            command.Options.Add(option);
        }

        foreach (var option in logs.All)
        {
            command.Options.Add(option);
        }

        var generatedToken = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            if (Configure(result, output) is not { } options)
            {
                return StartupChecks.BadSettings;
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
            output.WriteLine($"outpost store {options.StoreId} listening on {app.Address()}");
            // A generated token is printed once so that the first devices can be enrolled; a given one is never echoed into logs.
            output.WriteLine($"back office: {app.Address()}backoffice.html (admin token for the API: {(generatedToken ? options.AdminToken : "as configured")})");
            // The first back office is paired with a code printed here (an hour); it pairs every other device.
            var first = await app.Services.GetRequiredService<Outpost.Store.StoreServices>().Pairing.CreateAsync("Back office", "backoffice", "start-up",
                TimeSpan.FromMinutes(60), app.Address().ToString(), cancellationToken);
            output.WriteLine($"pair the back office: open {first.PairUrl} (or enter {first.Code} on {app.Address()}), until {first.ExpiresAt:HH:mm} UTC");
            await GracefulStop.RunUntilStoppedAsync(app, $"outpost store {options.StoreId}", output, cancellationToken);
            return 0;
        });
        return command;

        // Settings: appsettings.json, then OUTPOST_STORE_* environment variables, then command-line flags. Null (with
        // one line naming the setting) when one of them would stop the store from working.
        StoreOptions? Configure(ParseResult result, TextWriter output)
        {
            IConfigurationRoot configuration;
            var options = new StoreOptions { Topics = RetailTopics.Catalog, Urls = "http://127.0.0.1:5090" };
            try
            {
                configuration = new ConfigurationBuilder()
                    .AddJsonFile(result.GetValue(settings)?.FullName ?? Path.GetFullPath("appsettings.json"), optional: result.GetValue(settings) is null)
                    .AddEnvironmentVariables("OUTPOST_STORE_")
                    .Build();
                configuration.Bind(options);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or IOException)
            {
                output.WriteLine($"The store's settings cannot be read: {ex.Message.ReplaceLineEndings(" ")}");
                return null;
            }

            options.StoreId = result.GetValue(id) ?? configuration["StoreId"] ?? "";
            if (!Outpost.Core.Events.Scope.IsValidId(options.StoreId))
            {
                output.WriteLine(options.StoreId.Length == 0
                    ? "Give the store's id: --id, StoreId in appsettings.json, or OUTPOST_STORE_StoreId."
                    : $"The store id '{options.StoreId}' (--id, StoreId, OUTPOST_STORE_StoreId) is not valid: use letters, digits, '-', '_' or '.'.");
                return null;
            }

            if (!logs.Apply(result, options.Log, output))
            {
                return null;
            }

            options.DataDirectory = result.GetValue(data)?.FullName ?? configuration["DataDirectory"] ?? Path.Combine("data", options.StoreId);
            options.Urls = result.GetValue(urls) ?? options.Urls;
            options.Region = result.GetValue(region) ?? options.Region;
            options.TimeZone = result.GetValue(timeZone) ?? options.TimeZone;
            options.BusinessDayStarts = result.GetValue(businessDay) ?? options.BusinessDayStarts;
            if (options.BusinessDayStarts < TimeSpan.Zero || options.BusinessDayStarts >= TimeSpan.FromDays(1))
            {
                output.WriteLine($"The business day's start '{options.BusinessDayStarts}' (--business-day-starts, BusinessDayStarts, OUTPOST_STORE_BusinessDayStarts) is not a time of day: use 00:00 to 23:59.");
                return null;
            }

            if (result.GetValue(eventVersions) is { } versions)
            {
                options.Retail = options.Retail with { Checkout = options.Retail.Checkout with { EventVersions = versions } };
            }

            generatedToken = (result.GetValue(adminToken) ?? options.AdminToken) is null;
            options.AdminToken = result.GetValue(adminToken) ?? options.AdminToken ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            if (StartupChecks.ListenAddresses(options.Urls) is { } badUrl)
            {
                output.WriteLine($"The address to listen on '{badUrl}' (--urls, Urls, OUTPOST_STORE_Urls) is not an http(s) address such as http://0.0.0.0:5090.");
                return null;
            }

            try
            {
                Outpost.Store.Equipment.MqttBridge.Validate(options.Mqtt);
            }
            catch (InvalidOperationException ex)
            {
                output.WriteLine($"The MQTT bridge's settings (Mqtt, OUTPOST_STORE_Mqtt__*) are not usable: {ex.Message}");
                return null;
            }

            if (!StartupChecks.KnownTimeZone(options.TimeZone))
            {
                output.WriteLine($"The time zone '{options.TimeZone}' (--time-zone, TimeZone, OUTPOST_STORE_TimeZone) is not known here: use an IANA id such as Europe/Paris.");
                return null;
            }

            if ((result.GetValue(central) ?? configuration["Central"]) is { Length: > 0 } address)
            {
                if (StartupChecks.HttpAddress(address) is not { } uri)
                {
                    output.WriteLine($"HQ's address '{address}' (--central, Central, OUTPOST_STORE_Central) is not an http(s) address such as http://127.0.0.1:5080/.");
                    return null;
                }

                options.Sync.Central = uri;
            }

            options.Sync.Secret = result.GetValue(secret) ?? Environment.GetEnvironmentVariable("OUTPOST_STORE_SECRET") ?? "";
            if (options.Sync.Central is not null && options.Sync.Secret.Length == 0)
            {
                output.WriteLine("HQ's address is set but the store's HQ secret is missing: --secret or OUTPOST_STORE_SECRET.");
                return null;
            }

            if (options.Sync.Central is not null)
            {
                try
                {
                    // The CA bundle, pins and client certificate are read now, so a wrong one stops the store at start.
                    options.Sync.StoreId = options.StoreId;
                    using var probe = new Outpost.Sync.Agent.SyncClient(options.Sync);
                }
                catch (Outpost.Sync.Security.TlsSetupException ex)
                {
                    output.WriteLine($"The store's TLS settings for HQ (Sync:CaBundle, Sync:PinnedKeys, Sync:ClientCertificate, Sync:ClientKey) cannot work: {ex.Message}");
                    return null;
                }
            }

            if (StartupChecks.WritableDirectory(options.DataDirectory) is { } why)
            {
                output.WriteLine($"The data directory '{options.DataDirectory}' (--data, DataDirectory, OUTPOST_STORE_DataDirectory) is not writable: {why}");
                return null;
            }

            return options;
        }
    }
}
