using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.Sync.Security;

/// <summary>
/// Checks a certificate chain against trusted roots (the system's, or only those of a CA bundle: a retailer's private
/// PKI) at a given time, and says what is wrong in words an operator acts on: "expired on 2026-12-01", "from an
/// untrusted issuer (CN=…)", "for hq.example.com, not hq.other.com". Revocation is not looked up over the network
/// (a store may have no route to a CRL server); HQ checks stores' certificates against a CRL file it is given.
/// </summary>
public sealed class CertificateCheck
{
    private readonly X509Certificate2Collection? _roots;
    private readonly TimeProvider _time;

    /// <param name="caBundlePath">A PEM file of the only roots to trust; null trusts the system's roots.</param>
    /// <param name="time">The clock validity is checked against.</param>
    public CertificateCheck(string? caBundlePath, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        if (caBundlePath is null)
        {
            return;
        }

        _roots = ReadBundle(caBundlePath);
    }

    /// <summary>The certificates of a PEM bundle; throws <see cref="TlsSetupException"/> naming the file when it has none or cannot be read.</summary>
    public static X509Certificate2Collection ReadBundle(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TlsSetupException($"The CA bundle '{path}' cannot be read: {ex.Message.ReplaceLineEndings(" ")}");
        }

        return roots.Count > 0 ? roots : throw new TlsSetupException($"The CA bundle '{path}' holds no certificate (PEM, '-----BEGIN CERTIFICATE-----').");
    }

    /// <summary>
    /// Null when <paramref name="certificate"/> chains to a trusted root, is valid now, and (with <paramref name="purpose"/>)
    /// may be used for it; otherwise why not, about "<paramref name="whose"/> certificate".
    /// </summary>
    /// <param name="certificate">The leaf.</param>
    /// <param name="presented">What the peer sent with it (intermediates).</param>
    /// <param name="whose">Whose certificate, for the message: "HQ's", "store s1's".</param>
    /// <param name="purpose">The extended key usage required (server or client authentication), or null.</param>
    public string? Problem(X509Certificate2 certificate, IEnumerable<X509Certificate2>? presented, string whose, Oid? purpose)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var now = _time.GetUtcNow();
        if (now.UtcDateTime > certificate.NotAfter.ToUniversalTime())
        {
            return $"{whose} certificate ({certificate.Subject}) expired on {certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}";
        }

        if (now.UtcDateTime < certificate.NotBefore.ToUniversalTime())
        {
            return $"{whose} certificate ({certificate.Subject}) is not valid before {certificate.NotBefore.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (purpose is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(purpose);
        }

        if (_roots is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        }

        foreach (var extra in presented ?? [])
        {
            if (extra.Thumbprint != certificate.Thumbprint)
            {
                chain.ChainPolicy.ExtraStore.Add(extra);
            }
        }

        if (chain.Build(certificate))
        {
            return null;
        }

        var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        var top = chain.ChainElements.Count > 0 ? chain.ChainElements[^1].Certificate : certificate;
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            return $"{whose} certificate ({certificate.Subject}) is from an untrusted issuer ({top.Issuer}){(_roots is null ? "" : ": not one of the configured CA bundle's")}";
        }

        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            var expired = chain.ChainElements.Select(e => e.Certificate).FirstOrDefault(c => now.UtcDateTime > c.NotAfter.ToUniversalTime() || now.UtcDateTime < c.NotBefore.ToUniversalTime()) ?? top;
            return $"{whose} certificate chain is out of date: {expired.Subject} is valid {expired.NotBefore.ToUniversalTime():yyyy-MM-dd} to {expired.NotAfter.ToUniversalTime():yyyy-MM-dd}";
        }

        if ((flags & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidExtension)) != 0)
        {
            return $"{whose} certificate ({certificate.Subject}) may not be used for {purpose?.FriendlyName ?? "this"}";
        }

        return $"{whose} certificate ({certificate.Subject}) is not valid: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct())}";
    }

    /// <summary>The base64 SHA-256 of a certificate's public key (its SubjectPublicKeyInfo): what a pin names, and what survives a renewal with the same key.</summary>
    public static string KeyPin(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The server authentication purpose (1.3.6.1.5.5.7.3.1).</summary>
    public static Oid ServerAuthentication { get; } = new("1.3.6.1.5.5.7.3.1", "server authentication");

    /// <summary>The client authentication purpose (1.3.6.1.5.5.7.3.2).</summary>
    public static Oid ClientAuthentication { get; } = new("1.3.6.1.5.5.7.3.2", "client authentication");

    /// <summary>The host names a certificate is for (its DNS and IP subject alternative names), for messages.</summary>
    public static string Names(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(san => san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString()))).ToList();
        return names.Count > 0 ? string.Join(", ", names) : certificate.GetNameInfo(X509NameType.SimpleName, false);
    }
}
