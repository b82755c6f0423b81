using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.Sync.Security;

/// <summary>
/// How a store decides to trust HQ's TLS certificate: it chains to the system's roots, or only to a configured CA bundle
/// (a retailer's private PKI); it is for the host name the store dials; and, when keys are pinned, one of the chain's
/// public keys is a pinned one (a pin survives renewals that keep the key). Every refusal is kept in words
/// (<see cref="LastFailure"/>), so the store's connectivity status says "HQ's certificate … expired on …" instead of
/// "the SSL connection could not be established".
/// </summary>
public sealed class HqTrust
{
    private readonly CertificateCheck _check;
    private readonly HashSet<string> _pins;
    private readonly string _host;

    /// <param name="check">The roots and clock.</param>
    /// <param name="pins">Base64 SHA-256 hashes of public keys (SubjectPublicKeyInfo), optionally written <c>sha256/…</c>; empty pins nothing.</param>
    /// <param name="host">The host name the store dials, for messages.</param>
    public HqTrust(CertificateCheck check, IEnumerable<string> pins, string host)
    {
        ArgumentNullException.ThrowIfNull(pins);
        _check = check;
        _host = host;
        _pins = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pin in pins)
        {
            var value = pin.StartsWith("sha256/", StringComparison.Ordinal) ? pin[7..] : pin;
            var bytes = new byte[32];
            if (!Convert.TryFromBase64String(value, bytes, out var written) || written != 32)
            {
                throw new TlsSetupException($"The pinned key '{pin}' is not a base64 SHA-256 (44 characters, as 'outpost pki pin' prints it).");
            }

            _pins.Add(value);
        }
    }

    /// <summary>Why HQ's certificate was last refused, or null when the last handshake trusted it.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>The <see cref="RemoteCertificateValidationCallback"/> of the store's connections to HQ.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        LastFailure = Problem(certificate as X509Certificate2 ?? (certificate is null ? null : new X509Certificate2(certificate)), chain, errors);
        return LastFailure is null;
    }

    private string? Problem(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return "HQ presented no certificate";
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return $"HQ's certificate is for {CertificateCheck.Names(certificate)}, not {_host}";
        }

        // What HQ sent with its certificate (intermediates), and what the handshake's own chain found.
        var presented = (chain?.ChainPolicy.ExtraStore.Cast<X509Certificate2>() ?? []).Concat(chain?.ChainElements.Select(e => e.Certificate) ?? [])
            .Where(c => c.Thumbprint != certificate.Thumbprint).DistinctBy(c => c.Thumbprint).ToList();
        if (_check.Problem(certificate, presented, "HQ's", CertificateCheck.ServerAuthentication) is { } problem)
        {
            return problem;
        }

        if (_pins.Count == 0 || presented.Prepend(certificate).Any(c => _pins.Contains(CertificateCheck.KeyPin(c))))
        {
            return null;
        }

        return $"HQ's certificate key (sha256/{CertificateCheck.KeyPin(certificate)}) is not one of the pinned keys";
    }
}
