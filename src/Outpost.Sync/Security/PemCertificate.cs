using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.Sync.Security;

/// <summary>
/// A certificate with its private key, from PEM files a retailer's tooling renews in place (cert-manager, certbot, their
/// PKI's agent): the certificate file holds the leaf first, then any intermediates; the key file holds its key (PKCS#8,
/// or the RSA or EC forms). A renewed pair is used for the next handshakes with no restart (<see cref="ReloadingFiles{T}"/>).
/// </summary>
public sealed class PemCertificate
{
    private readonly ReloadingFiles<Pair> _files;

    /// <summary>Loads the pair; throws <see cref="TlsSetupException"/> naming the files when it cannot.</summary>
    public PemCertificate(string certificatePath, string keyPath, TimeProvider? time = null)
    {
        _files = new ReloadingFiles<Pair>([certificatePath, keyPath], () => Read(certificatePath, keyPath),
            $"The certificate '{certificatePath}' with the key '{keyPath}'", time);
    }

    /// <summary>The certificate in use (with its key).</summary>
    public X509Certificate2 Certificate => _files.Value.Certificate;

    /// <summary>The certificate in use with its intermediates, as a TLS server or client presents it.</summary>
    public SslStreamCertificateContext Context => _files.Value.Context;

    /// <summary>Why the files as they are now could not be loaded (the previous pair is in use), or null.</summary>
    public string? LastError => _files.LastError;

    private static Pair Read(string certificatePath, string keyPath)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certificatePath);
        var intermediates = new X509Certificate2Collection();
        foreach (var other in all)
        {
            if (other.Thumbprint != certificate.Thumbprint)
            {
                intermediates.Add(other);
            }
        }

        return new Pair(certificate, SslStreamCertificateContext.Create(certificate, intermediates, offline: true));
    }

    private sealed record Pair(X509Certificate2 Certificate, SslStreamCertificateContext Context);
}

/// <summary>A TLS setting that cannot work: a certificate, key, bundle or CRL file missing or unreadable, a pin malformed.</summary>
public sealed class TlsSetupException(string message) : Exception(message);
