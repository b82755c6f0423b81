using System.CommandLine;
using Outpost.Central.Stores;
using Outpost.Central;
using Outpost.Central.Fleet;
using Outpost.Retail;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Commands;

/// <summary><c>outpost central</c>: runs an HQ node until stopped.</summary>
internal static class CentralCommand
{
    public static Command Create(TextWriter output)
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "HQ's data folder (its SQLite database), when not on PostgreSQL.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "hq")) };
        var urls = new Option<string>("--urls") { Description = "Where to listen.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var token = new Option<string?>("--admin-token") { Description = "The admin API's bearer token (also OUTPOST_ADMIN_TOKEN); without one the admin API refuses everything." };
        var admins = new Option<string[]>("--admin")
        {
            Description = "A named admin token, NAME=TOKEN (repeatable): the audit trail records NAME for that token's changes.",
            AllowMultipleArgumentsPerToken = true,
        };
        var webhook = new Option<Uri?>("--alert-webhook") { Description = "Where to send store alerts (StoreOffline, BacklogGrowing, DevicesOffline, DiskAlmostFull, ParkedAtStore); with --alert-format pagerduty it defaults to PagerDuty's Events API v2." };
        var format = new Option<AlertFormat>("--alert-format") { Description = "The alerts' JSON: Alertmanager (webhook v4) or PagerDuty (Events API v2).", DefaultValueFactory = _ => AlertFormat.Alertmanager };
        var routingKey = new Option<string?>("--alert-routing-key") { Description = "PagerDuty's integration key (also OUTPOST_ALERT_ROUTING_KEY, which keeps it out of the process list)." };
        var deviceOffline = new Option<int?>("--device-offline-minutes")
        {
            Description = "Minutes without a heartbeat after which HQ flags a device offline and raises DevicesOffline for its connected store (default 10, 2 to 1440; also OUTPOST_DEVICE_OFFLINE_MINUTES).",
        };
        var postgres = new Option<string?>("--postgres")
        {
            Description = "A PostgreSQL connection string (also OUTPOST_POSTGRES): HQ keeps everything there and several nodes may share it. Without it HQ uses SQLite in --data.",
        };
        var releaseAdmins = new Option<string[]>("--release-admin")
        {
            Description = "A named admin (--admin NAME=..., or 'admin' for --admin-token) who may record releases and move rollouts (repeatable).",
            AllowMultipleArgumentsPerToken = true,
        };
        var insecureRegistries = new Option<string[]>("--insecure-registry")
        {
            Description = "A registry (host:port) spoken to over plain HTTP instead of HTTPS, for a lab or a local registry (repeatable).",
            AllowMultipleArgumentsPerToken = true,
        };
        var database = new Option<string?>("--database")
        {
            Description = "sqlite or postgres (also OUTPOST_DATABASE): with postgres, HQ refuses to start without a connection string instead of falling back to SQLite.",
        };
        var tlsCertificate = new Option<FileInfo?>("--tls-certificate") { Description = "HQ's certificate, PEM (leaf then intermediates; also OUTPOST_TLS_CERTIFICATE): HQ serves its https:// --urls with it, and uses renewed files within a second." };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "Its private key, PEM (also OUTPOST_TLS_KEY)." };
        var clientCa = new Option<FileInfo?>("--client-ca") { Description = "The CA bundle (PEM) that issues store certificates: HQ asks stores for one and checks it (mutual TLS; also OUTPOST_CLIENT_CA)." };
        var clientCrl = new Option<FileInfo?>("--client-crl") { Description = "That CA's revocation list, PEM or DER, reloaded when it changes (also OUTPOST_CLIENT_CRL)." };
        var requireClientCertificate = new Option<bool>("--require-client-certificate") { Description = "Refuse stores without a client certificate (otherwise their secret alone lets them in while certificates are rolled out)." };
        var register = new Option<string[]>("--register") { Description = "Register STORE:REGION on start (skipped if registered) and print its secret.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("central", "Run an HQ node: the sync endpoints stores connect to, the admin API, health.");
        var logs = new LogFlags("OUTPOST_LOG_");
        foreach (var option in new Option[] { data, urls, token, admins, releaseAdmins, insecureRegistries, postgres, database, webhook, format, routingKey, deviceOffline,
            tlsCertificate, tlsKey, clientCa, clientCrl, requireClientCertificate, register })
        {
            command.Options.Add(option);
        }

        foreach (var option in logs.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new CentralOptions
            {
                DataDirectory = result.GetValue(data)!.FullName,
                Urls = result.GetValue(urls)!,
                AdminToken = result.GetValue(token) ?? Environment.GetEnvironmentVariable("OUTPOST_ADMIN_TOKEN"),
                Postgres = result.GetValue(postgres) ?? Environment.GetEnvironmentVariable("OUTPOST_POSTGRES"),
                Topics = RetailTopics.Catalog,
            };
            if (!logs.Apply(result, options.Log, output))
            {
                return StartupChecks.BadSettings;
            }

            foreach (var entry in result.GetValue(admins) ?? [])
            {
                var at = entry.IndexOf('=', StringComparison.Ordinal);
                if (at < 1 || at == entry.Length - 1)
                {
                    output.WriteLine($"--admin takes NAME=TOKEN, not '{entry}'.");
                    return 2;
                }

                options.AdminTokens[entry[..at]] = entry[(at + 1)..];
            }

            foreach (var name in result.GetValue(releaseAdmins) ?? [])
            {
                if (!options.AdminTokens.ContainsKey(name) && !(name == "admin" && options.AdminToken is not null))
                {
                    output.WriteLine($"--release-admin {name} names no admin: give --admin {name}=TOKEN (or --admin-token for 'admin').");
                    return StartupChecks.BadSettings;
                }

                options.ReleaseAdmins.Add(name);
            }

            var offlineMinutes = result.GetValue(deviceOffline)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Environment.GetEnvironmentVariable("OUTPOST_DEVICE_OFFLINE_MINUTES");
            if (offlineMinutes is not null)
            {
                if (!int.TryParse(offlineMinutes, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var minutes) || minutes is < 2 or > 1440)
                {
                    output.WriteLine($"--device-offline-minutes is 2 to 1440 (devices send a heartbeat up at most once a minute), not '{offlineMinutes}'.");
                    return StartupChecks.BadSettings;
                }

                options.Alerts.DeviceOfflineAfter = TimeSpan.FromMinutes(minutes);
            }

            options.Tls.Certificate = result.GetValue(tlsCertificate)?.FullName ?? Environment.GetEnvironmentVariable("OUTPOST_TLS_CERTIFICATE");
            options.Tls.Key = result.GetValue(tlsKey)?.FullName ?? Environment.GetEnvironmentVariable("OUTPOST_TLS_KEY");
            options.Tls.ClientCa = result.GetValue(clientCa)?.FullName ?? Environment.GetEnvironmentVariable("OUTPOST_CLIENT_CA");
            options.Tls.ClientCrl = result.GetValue(clientCrl)?.FullName ?? Environment.GetEnvironmentVariable("OUTPOST_CLIENT_CRL");
            options.Tls.RequireClientCertificate = result.GetValue(requireClientCertificate);
            options.InsecureRegistries.AddRange(result.GetValue(insecureRegistries) ?? []);
            options.Alerts.Webhook = result.GetValue(webhook);
            options.Alerts.Format = result.GetValue(format);
            options.Alerts.RoutingKey = result.GetValue(routingKey) ?? Environment.GetEnvironmentVariable("OUTPOST_ALERT_ROUTING_KEY");
            if (options.Alerts.Format == AlertFormat.PagerDuty && string.IsNullOrWhiteSpace(options.Alerts.RoutingKey))
            {
                output.WriteLine("--alert-format pagerduty needs --alert-routing-key (or OUTPOST_ALERT_ROUTING_KEY): the PagerDuty service's integration key.");
                return 2;
            }

            if (CheckStorage(options, result.GetValue(database) ?? Environment.GetEnvironmentVariable("OUTPOST_DATABASE"), output) is false)
            {
                return StartupChecks.BadSettings;
            }

            if (StartupChecks.ListenAddresses(options.Urls) is { } badUrl)
            {
                output.WriteLine($"The address to listen on '{badUrl}' (--urls) is not an http(s) address such as http://0.0.0.0:5080.");
                return StartupChecks.BadSettings;
            }

            options.Alerts.ExternalUrl = new Uri(options.Urls.Split(';')[0].Replace("://*", "://localhost", StringComparison.Ordinal)
                .Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).TrimEnd('/') + "/");
            WebApplication app;
            try
            {
                app = CentralHost.Build(options);
            }
            catch (Outpost.Sync.Security.TlsSetupException ex)
            {
                output.WriteLine(ex.Message);
                return StartupChecks.BadSettings;
            }

            await using var _ = app;
            var stores = app.Services.GetRequiredService<StoreDirectory>();
            foreach (var entry in result.GetValue(register) ?? [])
            {
                var parts = entry.Split(':');
                if (parts.Length != 2)
                {
                    output.WriteLine($"--register takes STORE:REGION, not '{entry}'.");
                    return 2;
                }

                if (await stores.FindAsync(parts[0], cancellationToken) is not null)
                {
                    continue;
                }

                var issued = await stores.RegisterAsync(parts[0], parts[1], cancellationToken);
                output.WriteLine($"store {issued.StoreId} region {issued.Region} secret {issued.Secret}");
            }

            await app.StartAsync(cancellationToken);
            output.WriteLine($"outpost central listening on {app.Address()}");
            await GracefulStop.RunUntilStoppedAsync(app, "outpost central", output, cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>False (with one line naming the setting) when HQ's storage is not usable as configured.</summary>
    private static bool CheckStorage(CentralOptions options, string? database, TextWriter output)
    {
        switch (database?.ToLowerInvariant())
        {
            case null or "" or "sqlite" or "postgres":
                break;
            default:
                output.WriteLine($"The database '{database}' (--database, OUTPOST_DATABASE) is not one HQ knows: use sqlite or postgres.");
                return false;
        }

        if (options.Postgres is { } connection)
        {
            try
            {
                _ = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connection };
                return true;
            }
            catch (ArgumentException ex)
            {
                output.WriteLine($"The PostgreSQL connection string (--postgres, OUTPOST_POSTGRES) is malformed: {ex.Message}");
                return false;
            }
        }

        if (string.Equals(database, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            output.WriteLine("HQ is set to run on PostgreSQL (--database postgres, OUTPOST_DATABASE) but has no connection string: --postgres or OUTPOST_POSTGRES.");
            return false;
        }

        if (StartupChecks.WritableDirectory(options.DataDirectory) is { } why)
        {
            output.WriteLine($"HQ's data directory '{options.DataDirectory}' (--data) is not writable: {why}");
            return false;
        }

        return true;
    }
}
