using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Central.Fleet;
using Outpost.Central.Security;
using Outpost.Sync.Agent;
using Outpost.Sync.Security;

namespace Outpost.Sync.Tests;

/// <summary>
/// The store-to-HQ link over TLS, with real handshakes on 127.0.0.1: HQ serves HTTPS from PEM files of a test CA; a
/// store trusts that CA through its bundle (and may pin HQ's key). Each way HQ's certificate can be wrong shows on the
/// store's connectivity status in words, and the store never comes online; HQ's renewed files are served without a
/// restart; with mutual TLS, HQ refuses another store's, an expired, a revoked and an untrusted certificate, and the
/// fleet view says why.
/// </summary>
public sealed class TlsLinkTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly string[] Refused = ["s2", "s3", "s4", "s6"];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-tls-tests", Guid.NewGuid().ToString("N"));
    private readonly TrialPki _ca = TrialPki.Create("Outpost test CA", Now.AddYears(-2), TimeSpan.FromDays(3650));
    private readonly TrialPki _otherCa = TrialPki.Create("Someone else's CA", Now.AddYears(-2), TimeSpan.FromDays(3650));

    public TlsLinkTests()
    {
        Directory.CreateDirectory(_directory);
        TrialPki.Write(_ca.Certificate, At("ca.pem"), null);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string At(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task A_store_that_trusts_hqs_ca_syncs_over_https_and_a_pinned_key_is_checked()
    {
        var hqKeyPin = WriteHq(_ca.Server(["127.0.0.1"], Now.AddDays(-1), TimeSpan.FromDays(90)));
        await using var cluster = await StartHqAsync();
        Assert.Equal("https", cluster.HqAddress.Scheme);

        var store = await cluster.StartStoreAsync("s1", "north", tweak: sync =>
        {
            sync.CaBundle = At("ca.pem");
            sync.PinnedKeys.Add("sha256/" + hqKeyPin);
        });
        await store.Log.AppendAsync(Cluster.Sale("b1"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 1, TimeSpan.FromSeconds(20)), "the sale did not reach HQ over HTTPS");
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == ConnectivityState.Online), TimeSpan.FromSeconds(10)),
            store.Connectivity.Current.LastError);

        // A pin of a key HQ does not hold: refused, and said so.
        var pinned = await cluster.StartStoreAsync("s2", "north", tweak: sync =>
        {
            sync.CaBundle = At("ca.pem");
            sync.PinnedKeys.Add(CertificateCheck.KeyPin(_otherCa.Certificate));
        });
        await ExpectRefusedAsync(pinned, "is not one of the pinned keys");

        // HQ's own view: HTTPS, its certificate, nothing to warn about.
        var tls = await cluster.Admin.GetFromJsonAsync<HqTlsStatus>("admin/tls", Ct);
        Assert.True(tls!.Https);
        Assert.Equal("CN=127.0.0.1", tls.Subject);
        Assert.Empty(tls.Warnings);
    }

    [Fact]
    public async Task An_expired_hq_certificate_is_named_with_its_date_on_the_stores_status_and_on_the_fleet_page()
    {
        var expired = _ca.Server(["127.0.0.1"], Now.AddDays(-60), TimeSpan.FromDays(30));
        WriteHq(expired);
        await using var cluster = await StartHqAsync(accept: expired);
        var store = await cluster.StartStoreAsync("s1", "north", tweak: sync => sync.CaBundle = At("ca.pem"));
        var on = expired.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await ExpectRefusedAsync(store, $"HQ's certificate (CN=127.0.0.1) expired on {on}");

        var tls = await cluster.Admin.GetFromJsonAsync<HqTlsStatus>("admin/tls", Ct);
        Assert.Contains(tls!.Warnings, w => w.StartsWith($"HQ certificate expired on {on}", StringComparison.Ordinal));
        Assert.True(tls.DaysLeft < 0);
    }

    [Fact]
    public async Task A_certificate_for_another_host_name_is_refused_with_the_names_it_is_for()
    {
        WriteHq(_ca.Server(["hq.example.com"], Now.AddDays(-1), TimeSpan.FromDays(90)));
        await using var cluster = await StartHqAsync();
        var store = await cluster.StartStoreAsync("s1", "north", tweak: sync => sync.CaBundle = At("ca.pem"));
        await ExpectRefusedAsync(store, "HQ's certificate is for hq.example.com, not 127.0.0.1");
    }

    [Fact]
    public async Task A_certificate_from_a_ca_the_store_does_not_trust_is_refused_as_an_untrusted_issuer()
    {
        WriteHq(_otherCa.Server(["127.0.0.1"], Now.AddDays(-1), TimeSpan.FromDays(90)));
        await using var cluster = await StartHqAsync(accept: null, trust: _otherCa);
        var store = await cluster.StartStoreAsync("s1", "north", tweak: sync => sync.CaBundle = At("ca.pem"));
        await ExpectRefusedAsync(store, "is from an untrusted issuer (CN=Someone else's CA)");

        // Without a bundle the store trusts the system's roots, which do not include a test CA either.
        var system = await cluster.StartStoreAsync("s2", "north");
        await ExpectRefusedAsync(system, "is from an untrusted issuer");
    }

    [Fact]
    public async Task A_certificate_renewed_in_place_is_served_without_a_restart_while_stores_stay_connected()
    {
        var first = _ca.Server(["127.0.0.1"], Now.AddDays(-1), TimeSpan.FromDays(90));
        WriteHq(first);
        await using var cluster = await StartHqAsync();
        var store = await cluster.StartStoreAsync("s1", "north", tweak: sync => sync.CaBundle = At("ca.pem"));
        await store.Log.AppendAsync(Cluster.Sale("b1"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 1, TimeSpan.FromSeconds(20)));
        Assert.Equal(first.Thumbprint, await ServedThumbprintAsync(cluster.HqAddress));

        // The renewal: a new key and certificate written over the files HQ was started with.
        var renewed = _ca.Server(["127.0.0.1"], Now.AddDays(-1), TimeSpan.FromDays(180));
        WriteHq(renewed);
        Assert.True(await Cluster.EventuallyAsync(async () => await ServedThumbprintAsync(cluster.HqAddress) == renewed.Thumbprint, TimeSpan.FromSeconds(10)),
            "HQ still serves the certificate it started with");

        // The connected store carries on, and a store connecting now trusts the new certificate.
        await store.Log.AppendAsync(Cluster.Sale("b2"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 2, TimeSpan.FromSeconds(20)));
        var later = await cluster.StartStoreAsync("s2", "north", tweak: sync => sync.CaBundle = At("ca.pem"));
        await later.Log.AppendAsync(Cluster.Sale("c1"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s2")).Count == 1, TimeSpan.FromSeconds(20)), later.Connectivity.Current.LastError);

        // A half-written renewal (a key that does not match) is not served: the last good pair stays, and HQ says why.
        File.WriteAllText(At("hq.pem"), _ca.Server(["127.0.0.1"], Now.AddDays(-1), TimeSpan.FromDays(90)).ExportCertificatePem());
        Assert.True(await Cluster.EventuallyAsync(async () =>
            (await cluster.Admin.GetFromJsonAsync<HqTlsStatus>("admin/tls", Ct))!.Warnings.Any(w => w.Contains("cannot be loaded", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)));
        Assert.Equal(renewed.Thumbprint, await ServedThumbprintAsync(cluster.HqAddress));
    }

    [Fact]
    public async Task With_mutual_tls_hq_lets_in_only_a_stores_own_valid_unrevoked_certificate_and_the_fleet_view_says_why_not()
    {
        WriteHq(_ca.Server(["127.0.0.1"], Now.AddDays(-1), TimeSpan.FromDays(90)));
        var s1 = WriteStore("s1", _ca.Store("s1", Now.AddDays(-1), TimeSpan.FromDays(90)));
        var expired = WriteStore("s3", _ca.Store("s3", Now.AddDays(-60), TimeSpan.FromDays(30)));
        var toRevoke = WriteStore("s5", _ca.Store("s5", Now.AddDays(-1), TimeSpan.FromDays(90)));
        WriteStore("s6", _otherCa.Store("s6", Now.AddDays(-1), TimeSpan.FromDays(90)));
        TrialPki.WriteRevocationList(_ca.RevocationList([], Now, TimeSpan.FromDays(7), BigInteger.One), At("crl.pem"));
        await using var cluster = await StartHqAsync(configure: tls =>
        {
            tls.ClientCa = At("ca.pem");
            tls.ClientCrl = At("crl.pem");
            tls.RequireClientCertificate = true;
        });

        Task<StoreNode> StartAsync(string id, string? certificateOf) => cluster.StartStoreAsync(id, "north", tweak: sync =>
        {
            sync.CaBundle = At("ca.pem");
            if (certificateOf is not null)
            {
                sync.ClientCertificate = At(certificateOf + ".pem");
                sync.ClientKey = At(certificateOf + ".key");
            }
        });

        var own = await StartAsync("s1", "s1");
        var borrowed = await StartAsync("s2", "s1");
        var outOfDate = await StartAsync("s3", "s3");
        var none = await StartAsync("s4", null);
        var revoked = await StartAsync("s5", "s5");
        var untrusted = await StartAsync("s6", "s6");

        await own.Log.AppendAsync(Cluster.Sale("b1"), Ct);
        await revoked.Log.AppendAsync(Cluster.Sale("r1"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 1 && (await cluster.HqEventsFromAsync("s5")).Count == 1,
            TimeSpan.FromSeconds(20)), "a store with its own certificate did not sync");

        await ExpectRefusedAsync(borrowed, "is issued to store 's1', not to store s2");
        await ExpectRefusedAsync(outOfDate, $"store s3's certificate (CN=s3) expired on {expired.NotAfter.ToUniversalTime():yyyy-MM-dd}");
        await ExpectRefusedAsync(none, "HQ requires a client certificate from every store and store s4 presented none");
        await ExpectRefusedAsync(untrusted, "is from an untrusted issuer (CN=Someone else's CA)");

        // Revoked while connected: the next request on the same connection is refused once HQ has read the new CRL.
        TrialPki.WriteRevocationList(_ca.RevocationList([toRevoke], Now, TimeSpan.FromDays(7), new BigInteger(2)), At("crl.pem"));
        await ExpectRefusedAsync(revoked, $"store s5's certificate (serial {toRevoke.SerialNumber}) was revoked on");
        await revoked.Log.AppendAsync(Cluster.Sale("r2"), Ct);
        await own.Log.AppendAsync(Cluster.Sale("b2"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 2, TimeSpan.FromSeconds(20)));
        Assert.Single(await cluster.HqEventsFromAsync("s5"));

        // The fleet view names each refused store's reason; refused stores never count as connected.
        var fleet = cluster.Hq.Services.GetRequiredService<FleetHealth>();
        await fleet.FlushAsync(Ct);
        var health = (await fleet.ListAsync(Ct)).ToDictionary(h => h.StoreId);
        Assert.Null(health["s1"].Error);
        Assert.Contains("refused by HQ: the client certificate presented (CN=s1) is issued to store 's1', not to store s2", health["s2"].Error, StringComparison.Ordinal);
        Assert.Contains("expired on", health["s3"].Error, StringComparison.Ordinal);
        Assert.Contains("presented none", health["s4"].Error, StringComparison.Ordinal);
        Assert.Contains("was revoked on", health["s5"].Error, StringComparison.Ordinal);
        Assert.Contains("untrusted issuer", health["s6"].Error, StringComparison.Ordinal);
        Assert.All(Refused, id => Assert.False(health[id].Connected, id));
        var tls = await cluster.Admin.GetFromJsonAsync<HqTlsStatus>("admin/tls", Ct);
        Assert.Equal("required", tls!.ClientCertificates);
    }

    [Fact]
    public async Task Tls_settings_that_cannot_work_stop_hq_and_the_store_at_start_with_the_reason()
    {
        File.WriteAllText(At("garbage.pem"), "not a certificate");
        Assert.Contains("give both HQ's TLS certificate and its key", Assert.Throws<TlsSetupException>(() =>
            Central.CentralHost.Build(new Central.CentralOptions { DataDirectory = At("hq"), Urls = "https://127.0.0.1:0", Tls = { Certificate = At("garbage.pem") } })).Message,
            StringComparison.Ordinal);
        Assert.Contains("cannot be used", Assert.Throws<TlsSetupException>(() =>
            Central.CentralHost.Build(new Central.CentralOptions { DataDirectory = At("hq"), Urls = "https://127.0.0.1:0", Tls = { Certificate = At("garbage.pem"), Key = At("garbage.pem") } })).Message,
            StringComparison.Ordinal);
        Assert.Contains("holds no certificate", Assert.Throws<TlsSetupException>(() =>
            new SyncClient(new SyncClientOptions { Central = new Uri("https://127.0.0.1:1/"), StoreId = "s1", Secret = "x", CaBundle = At("garbage.pem") })).Message, StringComparison.Ordinal);
        Assert.Contains("is not a base64 SHA-256", Assert.Throws<TlsSetupException>(() =>
            new SyncClient(new SyncClientOptions { Central = new Uri("https://127.0.0.1:1/"), StoreId = "s1", Secret = "x", PinnedKeys = { "abc" } })).Message, StringComparison.Ordinal);
        Assert.Contains("is not https", Assert.Throws<TlsSetupException>(() =>
            new SyncClient(new SyncClientOptions { Central = new Uri("http://127.0.0.1:1/"), StoreId = "s1", Secret = "x", CaBundle = At("ca.pem") })).Message, StringComparison.Ordinal);

        // A CRL signed by a CA other than the client CA is refused rather than trusted.
        TrialPki.WriteRevocationList(_otherCa.RevocationList([], Now, TimeSpan.FromDays(7), BigInteger.One), At("foreign-crl.pem"));
        Assert.Contains("not one of the client CA bundle's certificates", Assert.Throws<TlsSetupException>(() =>
            new StoreCertificates(At("ca.pem"), At("foreign-crl.pem"), required: true)).Message, StringComparison.Ordinal);
    }

    /// <summary>The store's status says <paramref name="reason"/>, and is not online (one snapshot of it: a request let in just before a revocation may still end well after it).</summary>
    private static async Task ExpectRefusedAsync(StoreNode store, string reason)
    {
        var said = await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current is { } status
            && status.LastError?.Contains(reason, StringComparison.Ordinal) == true && status.State != ConnectivityState.Online), TimeSpan.FromSeconds(20));
        Assert.True(said, $"{store.StoreId}: expected '{reason}' and not online, status says {store.Connectivity.Current.State}: '{store.Connectivity.Current.LastError}'");
    }

    private string WriteHq(X509Certificate2 certificate)
    {
        TrialPki.Write(certificate, At("hq.pem"), At("hq.key"));
        return CertificateCheck.KeyPin(certificate);
    }

    private X509Certificate2 WriteStore(string name, X509Certificate2 certificate)
    {
        TrialPki.Write(certificate, At(name + ".pem"), At(name + ".key"));
        return certificate;
    }

    /// <param name="accept">The certificate the admin client accepts (an expired one, for the test that serves it); null: those the CA issued.</param>
    /// <param name="trust">The CA the admin client trusts.</param>
    /// <param name="configure">More TLS settings.</param>
    private async Task<Cluster> StartHqAsync(X509Certificate2? accept = null, TrialPki? trust = null, Action<HqTlsOptions>? configure = null)
    {
        var roots = new X509Certificate2Collection((trust ?? _ca).Certificate);
        var admin = new SocketsHttpHandler();
        admin.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => accept is not null
            ? certificate is not null && new X509Certificate2(certificate).Thumbprint == accept.Thumbprint
            : errors == SslPolicyErrors.None || Chains(certificate, roots);
        return await Cluster.StartAsync(configure: options =>
        {
            options.Urls = "https://127.0.0.1:0";
            options.Tls.Certificate = At("hq.pem");
            options.Tls.Key = At("hq.key");
            configure?.Invoke(options.Tls);
        }, adminHandler: admin);
    }

    private static bool Chains(X509Certificate? certificate, X509Certificate2Collection roots)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }

    /// <summary>The certificate a new TLS handshake with HQ gets.</summary>
    private static async Task<string?> ServedThumbprintAsync(Uri hq)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(hq.Host, hq.Port, Ct);
        // Whatever HQ serves is looked at, not trusted: the connection only reads which certificate it is.
        string? served = null;
        await using var tls = new SslStream(tcp.GetStream(), false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = hq.Host,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => (served = certificate is null ? null : new X509Certificate2(certificate).Thumbprint) is not null,
        }, Ct);
        return served;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
