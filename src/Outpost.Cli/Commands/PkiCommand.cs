using System.CommandLine;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Outpost.Sync.Security;

namespace Outpost.Cli.Commands;

/// <summary>
/// <c>outpost pki</c>: a certificate authority for a trial of HQ over HTTPS with mutual TLS, in a folder: <c>ca</c> makes
/// the CA, <c>hq</c> HQ's server certificate, <c>store</c> a store's client certificate, <c>revoke</c> a CRL, <c>pin</c>
/// prints a certificate's key pin. A retailer's own PKI replaces it in production; the files are the same PEM.
/// </summary>
internal static class PkiCommand
{
    private const string CaCertificate = "ca.pem";
    private const string CaKey = "ca.key";

    public static Command Create(TextWriter output)
    {
        var command = new Command("pki", "A small certificate authority for trials: HQ's certificate, store client certificates, a CRL, key pins.");
        var folder = new Option<DirectoryInfo>("--dir") { Description = "The CA's folder (ca.pem, ca.key and what it issues).", DefaultValueFactory = _ => new DirectoryInfo("pki") };
        var days = new Option<int>("--days") { Description = "How long what is issued is valid.", DefaultValueFactory = _ => 397 };

        var ca = new Command("ca", "Make the CA (ca.pem, ca.key; valid ten years).");
        var name = new Option<string>("--name") { Description = "The CA's name.", DefaultValueFactory = _ => "Outpost trial CA" };
        ca.Options.Add(folder);
        ca.Options.Add(name);
        ca.SetAction(result =>
        {
            var dir = result.GetValue(folder)!;
            if (File.Exists(Path.Combine(dir.FullName, CaKey)))
            {
                output.WriteLine($"{Path.Combine(dir.FullName, CaKey)} exists: a CA is not made twice over (its certificates would stop chaining).");
                return StartupChecks.BadSettings;
            }

            dir.Create();
            using var pki = TrialPki.Create(result.GetValue(name)!, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromDays(3652));
            TrialPki.Write(pki.Certificate, Path.Combine(dir.FullName, CaCertificate), Path.Combine(dir.FullName, CaKey));
            output.WriteLine($"CA {pki.Certificate.Subject} in {dir.FullName}: give ca.pem to stores (Sync:CaBundle) and to HQ (--client-ca); keep ca.key offline.");
            return 0;
        });

        var hq = new Command("hq", "Issue HQ's server certificate (hq.pem, hq.key) for its host names and addresses.");
        var hosts = new Argument<string[]>("hosts") { Description = "Host names and IP addresses stores dial HQ by.", Arity = ArgumentArity.OneOrMore };
        hq.Arguments.Add(hosts);
        hq.Options.Add(folder);
        hq.Options.Add(days);
        hq.SetAction(result => Issue(result, folder, "hq", pki => pki.Server(result.GetValue(hosts)!, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromDays(result.GetValue(days)))));

        var store = new Command("store", "Issue a store's client certificate (<store>.pem, <store>.key; CN = the store id).");
        var storeId = new Argument<string>("store") { Description = "The store id, as registered at HQ." };
        store.Arguments.Add(storeId);
        store.Options.Add(folder);
        store.Options.Add(days);
        store.SetAction(result =>
        {
            var id = result.GetValue(storeId)!;
            if (!Outpost.Core.Events.Scope.IsValidId(id))
            {
                output.WriteLine($"'{id}' is not a store id: use letters, digits, '-', '_' or '.'.");
                return StartupChecks.BadSettings;
            }

            return Issue(result, folder, id, pki => pki.Store(id, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromDays(result.GetValue(days))));
        });

        var revoke = new Command("revoke", "Write the CA's CRL (crl.pem) revoking the given certificates (and those revoked before); HQ reloads it (--client-crl).");
        var revoked = new Argument<FileInfo[]>("certificates") { Description = "Certificate files (PEM) to revoke.", Arity = ArgumentArity.ZeroOrMore };
        revoke.Arguments.Add(revoked);
        revoke.Options.Add(folder);
        revoke.SetAction(result =>
        {
            var dir = result.GetValue(folder)!;
            using var pki = OpenCa(dir, output);
            if (pki is null)
            {
                return StartupChecks.BadSettings;
            }

            var listPath = Path.Combine(dir.FullName, "revoked.pem");
            var all = new X509Certificate2Collection();
            if (File.Exists(listPath))
            {
                all.ImportFromPemFile(listPath);
            }

            foreach (var file in result.GetValue(revoked) ?? [])
            {
                all.Add(ReadCertificate(file.FullName));
            }

            File.WriteAllText(listPath, string.Concat(all.Select(c => c.ExportCertificatePem() + "\n")));
            var now = DateTimeOffset.UtcNow;
            TrialPki.WriteRevocationList(pki.RevocationList(all, now, TimeSpan.FromDays(7), new BigInteger(now.ToUnixTimeSeconds())), Path.Combine(dir.FullName, "crl.pem"));
            output.WriteLine($"crl.pem revokes {all.Count} certificate(s); due again in 7 days.");
            return 0;
        });

        var pin = new Command("pin", "Print a certificate's key pin (base64 SHA-256 of its public key) for Sync:PinnedKeys.");
        var pinned = new Argument<FileInfo>("certificate") { Description = "A certificate file (PEM)." };
        pin.Arguments.Add(pinned);
        pin.SetAction(result =>
        {
            using var certificate = ReadCertificate(result.GetValue(pinned)!.FullName);
            output.WriteLine(CertificateCheck.KeyPin(certificate));
            return 0;
        });

        foreach (var sub in new[] { ca, hq, store, revoke, pin })
        {
            command.Subcommands.Add(sub);
        }

        return command;

        int Issue(ParseResult result, Option<DirectoryInfo> folderOption, string name, Func<TrialPki, X509Certificate2> issue)
        {
            var dir = result.GetValue(folderOption)!;
            using var pki = OpenCa(dir, output);
            if (pki is null)
            {
                return StartupChecks.BadSettings;
            }

            using var certificate = issue(pki);
            TrialPki.Write(certificate, Path.Combine(dir.FullName, name + ".pem"), Path.Combine(dir.FullName, name + ".key"));
            output.WriteLine($"{name}.pem and {name}.key in {dir.FullName}: {certificate.Subject}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}; key pin {CertificateCheck.KeyPin(certificate)}");
            return 0;
        }
    }

    // The first certificate of a PEM file (no key needed).
    private static X509Certificate2 ReadCertificate(string path)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(path);
        return all.Count > 0 ? all[0] : throw new TlsSetupException($"'{path}' holds no certificate (PEM).");
    }

    private static TrialPki? OpenCa(DirectoryInfo dir, TextWriter output)
    {
        var certificate = Path.Combine(dir.FullName, CaCertificate);
        if (!File.Exists(certificate))
        {
            output.WriteLine($"No CA in {dir.FullName}: make one first with 'outpost pki ca --dir {dir}'.");
            return null;
        }

        return TrialPki.Read(certificate, Path.Combine(dir.FullName, CaKey));
    }
}
