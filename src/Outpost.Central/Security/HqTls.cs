using System.Globalization;
using Outpost.Sync.Security;

namespace Outpost.Central.Security;

/// <summary>HQ's TLS: the certificate it serves and, for mutual TLS, how it checks stores' certificates.</summary>
public sealed class HqTlsOptions
{
    /// <summary>HQ's certificate (PEM: the leaf, then intermediates); with <see cref="Key"/>, HQ serves its https:// addresses with it, renewed files in use within a second.</summary>
    public string? Certificate { get; set; }

    /// <summary>Its private key (PEM).</summary>
    public string? Key { get; set; }

    /// <summary>A PEM bundle of the CA(s) that issue store certificates: HQ asks stores for a client certificate and checks it (mutual TLS).</summary>
    public string? ClientCa { get; set; }

    /// <summary>The store CA's certificate revocation list (PEM or DER), reloaded when it changes.</summary>
    public string? ClientCrl { get; set; }

    /// <summary>Whether a store without a client certificate is refused (otherwise it is let in on its secret alone, while certificates are rolled out).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Whether HQ serves HTTPS.</summary>
    public bool Enabled => Certificate is not null;

    /// <summary>A setting that cannot work, in words, or null.</summary>
    public string? Problem() =>
        (Certificate is null) != (Key is null) ? "give both HQ's TLS certificate and its key (--tls-certificate, --tls-key)"
        : ClientCa is not null && Certificate is null ? "a client CA (mutual TLS) needs HQ to serve HTTPS: give --tls-certificate and --tls-key"
        : (ClientCrl is not null || RequireClientCertificate) && ClientCa is null ? "a client CRL or --require-client-certificate needs --client-ca"
        : null;
}

/// <summary>What the fleet page shows of HQ's TLS.</summary>
/// <param name="Https">Whether HQ serves HTTPS.</param>
/// <param name="Subject">Its certificate's subject.</param>
/// <param name="NotAfter">When it expires.</param>
/// <param name="DaysLeft">Whole days until then (negative once expired).</param>
/// <param name="ClientCertificates">off, optional or required.</param>
/// <param name="Warnings">What an operator must act on: an expired or expiring certificate, renewed files that could not be loaded, a stale or unusable CRL.</param>
public sealed record HqTlsStatus(bool Https, string? Subject, DateTimeOffset? NotAfter, int? DaysLeft, string ClientCertificates, IReadOnlyList<string> Warnings);

/// <summary>HQ's certificate and store-certificate check as they stand, for the fleet page.</summary>
public sealed class HqTlsState(PemCertificate? certificate, StoreCertificates? stores, TimeProvider time)
{
    /// <summary>How long before expiry the fleet page warns.</summary>
    public static TimeSpan ExpiryWarning { get; } = TimeSpan.FromDays(14);

    /// <summary>The status now.</summary>
    public HqTlsStatus Status()
    {
        var warnings = new List<string>();
        var mode = stores is null ? "off" : stores.Required ? "required" : "optional";
        if (certificate is null)
        {
            warnings.Add("HQ serves plain HTTP: stores' secrets and data cross the network unencrypted unless TLS ends in front of HQ");
            return new HqTlsStatus(false, null, null, null, mode, warnings);
        }

        var now = time.GetUtcNow();
        var served = certificate.Certificate;
        var notAfter = new DateTimeOffset(served.NotAfter.ToUniversalTime());
        var daysLeft = (int)Math.Floor((notAfter - now).TotalDays);
        var on = notAfter.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        if (now >= notAfter)
        {
            warnings.Add($"HQ certificate expired on {on}: no store can connect until it is renewed");
        }
        else if (notAfter - now < ExpiryWarning)
        {
            warnings.Add($"HQ certificate expires on {on} ({daysLeft} days)");
        }

        if (certificate.LastError is { } error)
        {
            warnings.Add($"HQ's renewed certificate files cannot be loaded (the previous certificate is still served): {error}");
        }

        if (stores?.RevocationListError is { } crlError)
        {
            warnings.Add($"The store CRL as it is now cannot be used (the previous one is): {crlError}");
        }

        if (stores?.RevocationList is { } crl && crl.Stale(now))
        {
            warnings.Add($"The store CRL was due again on {crl.NextUpdate!.Value.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}: revocations since then are not known to HQ");
        }

        return new HqTlsStatus(true, served.Subject, notAfter, daysLeft, mode, warnings);
    }
}
