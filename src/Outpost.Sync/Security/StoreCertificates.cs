using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.Sync.Security;

/// <summary>
/// HQ's check of the client certificates stores present (mutual TLS): issued by the client CA (a PEM bundle of the
/// retailer's store CA), valid now, for client authentication, not on the CA's revocation list (a CRL file, reloaded
/// when it changes), and issued to the store whose credential the request carries: a store's certificate names the
/// store id as its subject's common name (<c>CN=s1</c>). A refusal is said in words, for the store and the fleet page.
/// </summary>
public sealed class StoreCertificates
{
    private readonly CertificateCheck _check;
    private readonly ReloadingFiles<RevocationList>? _crl;
    private readonly TimeProvider _time;

    /// <param name="clientCaPath">The PEM bundle of the CA(s) that issue store certificates.</param>
    /// <param name="crlPath">The CA's CRL file, or null.</param>
    /// <param name="required">Whether a store must present a certificate (otherwise one without is let in on its secret alone, while certificates are rolled out).</param>
    /// <param name="time">The clock.</param>
    public StoreCertificates(string clientCaPath, string? crlPath, bool required, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _check = new CertificateCheck(clientCaPath, _time);
        Required = required;
        if (crlPath is not null)
        {
            var issuers = CertificateCheck.ReadBundle(clientCaPath);
            _crl = new ReloadingFiles<RevocationList>([crlPath], () => RevocationList.Read(crlPath, issuers), $"The CRL '{crlPath}'", _time);
        }
    }

    /// <summary>Whether a store must present a certificate.</summary>
    public bool Required { get; }

    /// <summary>The revocation list in use, if any.</summary>
    public RevocationList? RevocationList => _crl?.Value;

    /// <summary>Why the CRL file as it is now is not used (the previous list is), or null.</summary>
    public string? RevocationListError => _crl?.LastError;

    /// <summary>Null when store <paramref name="storeId"/> may connect with <paramref name="certificate"/> (or none, when not required); otherwise why not.</summary>
    public string? Problem(X509Certificate2? certificate, string storeId)
    {
        if (certificate is null)
        {
            return Required ? $"HQ requires a client certificate from every store and store {storeId} presented none" : null;
        }

        var whose = $"store {storeId}'s";
        if (_check.Problem(certificate, null, whose, CertificateCheck.ClientAuthentication) is { } problem)
        {
            return problem;
        }

        if (_crl?.Value.RevokedAt(certificate) is { } revokedAt)
        {
            return $"{whose} certificate (serial {certificate.SerialNumber}) was revoked on {revokedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}";
        }

        var owner = certificate.GetNameInfo(X509NameType.SimpleName, false);
        return string.Equals(owner, storeId, StringComparison.Ordinal)
            ? null
            : $"the client certificate presented ({certificate.Subject}) is issued to store '{owner}', not to store {storeId}";
    }
}
