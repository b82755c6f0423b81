using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.Sync.Security;

/// <summary>
/// A small certificate authority for trials and tests (<c>outpost pki</c>): a CA, HQ's server certificate, store client
/// certificates (CN = store id), and a CRL revoking some of them. ECDSA P-256 with SHA-256 throughout. A retailer in
/// production issues these from their own PKI; the files are the same PEM either way.
/// </summary>
public sealed class TrialPki : IDisposable
{
    private readonly ECDsa _key;

    private TrialPki(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        _key = key;
    }

    /// <summary>The CA's certificate (with its key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>A new CA valid from <paramref name="notBefore"/> for <paramref name="lifetime"/>.</summary>
    public static TrialPki Create(string name, DateTimeOffset notBefore, TimeSpan lifetime)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new TrialPki(request.CreateSelfSigned(notBefore, notBefore + lifetime), key);
    }

    /// <summary>Reads a CA written by <see cref="Write"/> (certificate and key PEM files).</summary>
    public static TrialPki Read(string certificatePath, string keyPath)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return new TrialPki(certificate, certificate.GetECDsaPrivateKey() ?? throw new TlsSetupException($"The CA key '{keyPath}' is not an ECDSA key."));
    }

    /// <summary>A server certificate for <paramref name="hosts"/> (DNS names or IP addresses).</summary>
    public X509Certificate2 Server(IReadOnlyList<string> hosts, DateTimeOffset notBefore, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        return Issue($"CN={hosts[0]}", CertificateCheck.ServerAuthentication, names.Build(), notBefore, lifetime);
    }

    /// <summary>A client certificate for store <paramref name="storeId"/> (its subject's common name).</summary>
    public X509Certificate2 Store(string storeId, DateTimeOffset notBefore, TimeSpan lifetime) =>
        Issue($"CN={storeId}", CertificateCheck.ClientAuthentication, null, notBefore, lifetime);

    /// <summary>A CRL (DER) revoking <paramref name="revoked"/>, issued at <paramref name="now"/> and due again after <paramref name="nextUpdate"/>.</summary>
    public byte[] RevocationList(IEnumerable<X509Certificate2> revoked, DateTimeOffset now, TimeSpan nextUpdate, BigInteger number)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        var builder = new CertificateRevocationListBuilder();
        foreach (var certificate in revoked)
        {
            builder.AddEntry(certificate, now);
        }

        return builder.Build(Certificate, number, now + nextUpdate, HashAlgorithmName.SHA256, thisUpdate: now);
    }

    /// <summary>Writes a certificate (and, with its key, the key) as PEM: the certificate file ends with <paramref name="chain"/>.</summary>
    public static void Write(X509Certificate2 certificate, string certificatePath, string? keyPath, params X509Certificate2[] chain)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllText(certificatePath, string.Concat(chain.Prepend(certificate).Select(c => c.ExportCertificatePem() + "\n")));
        if (keyPath is not null)
        {
            var key = certificate.GetECDsaPrivateKey() ?? (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? throw new ArgumentException("The certificate has no private key.", nameof(certificate));
            // The key is readable by the service's user only.
            File.WriteAllText(keyPath, "");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        }
    }

    /// <summary>Writes a CRL as PEM.</summary>
    public static void WriteRevocationList(byte[] der, string path) =>
        File.WriteAllText(path, PemEncoding.WriteString("X509 CRL", der) + "\n");

    private X509Certificate2 Issue(string subject, Oid purpose, X509Extension? names, DateTimeOffset notBefore, TimeSpan lifetime)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subject), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([purpose], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        if (names is not null)
        {
            request.CertificateExtensions.Add(names);
        }

        var notAfter = notBefore + lifetime;
        if (notAfter > Certificate.NotAfter)
        {
            notAfter = Certificate.NotAfter;
        }

        // A positive serial with no leading zero byte, as RFC 5280 asks.
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x10);
        using var issued = request.Create(Certificate, notBefore, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }
}
