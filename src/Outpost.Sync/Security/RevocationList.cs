using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.Sync.Security;

/// <summary>
/// A certificate revocation list (RFC 5280, PEM <c>X509 CRL</c> or DER) as a retailer's PKI publishes it, read from a
/// file: the serial numbers it revokes, checked against the signature of the CA that issued it (one of
/// <c>issuers</c>; RSA PKCS#1 or ECDSA with SHA-256/384/512). A list signed by no known CA is refused rather than
/// trusted. A list past its next update is still used (a PKI that stops publishing must not cut every store off), and
/// <see cref="Stale"/> says so.
/// </summary>
public sealed class RevocationList
{
    private readonly Dictionary<string, DateTimeOffset> _revoked;

    private RevocationList(string issuer, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, Dictionary<string, DateTimeOffset> revoked)
    {
        Issuer = issuer;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        _revoked = revoked;
    }

    /// <summary>The CA that signed it.</summary>
    public string Issuer { get; }

    /// <summary>When it was issued.</summary>
    public DateTimeOffset ThisUpdate { get; }

    /// <summary>When the next one is due, if it says.</summary>
    public DateTimeOffset? NextUpdate { get; }

    /// <summary>How many certificates it revokes.</summary>
    public int Count => _revoked.Count;

    /// <summary>Whether its next update is past at <paramref name="now"/>.</summary>
    public bool Stale(DateTimeOffset now) => NextUpdate is { } next && now > next;

    /// <summary>When <paramref name="certificate"/> was revoked, or null when it is not on the list.</summary>
    public DateTimeOffset? RevokedAt(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _revoked.TryGetValue(Serial(certificate.SerialNumberBytes.Span), out var at) ? at : null;
    }

    /// <summary>Reads and checks a CRL file; throws <see cref="TlsSetupException"/> saying what is wrong with it.</summary>
    public static RevocationList Read(string path, X509Certificate2Collection issuers)
    {
        ArgumentNullException.ThrowIfNull(issuers);
        var bytes = File.ReadAllBytes(path);
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        if (text.Contains("-----BEGIN X509 CRL-----", StringComparison.Ordinal))
        {
            var fields = PemEncoding.Find(text);
            bytes = Convert.FromBase64String(text[fields.Base64Data]);
        }

        try
        {
            return Parse(bytes, issuers);
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException or FormatException)
        {
            throw new TlsSetupException($"The CRL '{path}' is not a certificate revocation list: {ex.Message}");
        }
        catch (TlsSetupException ex)
        {
            throw new TlsSetupException($"The CRL '{path}' cannot be used: {ex.Message}");
        }
    }

    private static RevocationList Parse(byte[] der, X509Certificate2Collection issuers)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var signed = outer.PeekEncodedValue().ToArray();
        var tbs = outer.ReadSequence();
        var algorithm = outer.ReadSequence().ReadObjectIdentifier();
        var signature = outer.ReadBitString(out _);

        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            tbs.ReadInteger();
        }

        tbs.ReadSequence();
        var issuerName = new X500DistinguishedName(tbs.ReadEncodedValue().Span);
        var thisUpdate = ReadTime(tbs);
        DateTimeOffset? nextUpdate = tbs.HasData && IsTime(tbs.PeekTag()) ? ReadTime(tbs) : null;
        var revoked = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var entries = tbs.ReadSequence();
            while (entries.HasData)
            {
                var entry = entries.ReadSequence();
                var serial = Serial(entry.ReadIntegerBytes().Span);
                revoked[serial] = ReadTime(entry);
            }
        }

        var issuer = issuers.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(issuerName.RawData))
            ?? throw new TlsSetupException($"it is issued by {issuerName.Name}, which is not one of the client CA bundle's certificates");
        var hash = algorithm switch
        {
            "1.2.840.113549.1.1.11" or "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
            "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
            "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
            _ => throw new TlsSetupException($"its signature algorithm {algorithm} is not supported (RSA PKCS#1 or ECDSA with SHA-256, 384 or 512 are)"),
        };
        bool valid;
        using (var rsa = issuer.GetRSAPublicKey())
        using (var ecdsa = issuer.GetECDsaPublicKey())
        {
            valid = rsa is not null ? rsa.VerifyData(signed, signature, hash, RSASignaturePadding.Pkcs1)
                : ecdsa is not null && ecdsa.VerifyData(signed, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
        }

        return valid
            ? new RevocationList(issuerName.Name, thisUpdate, nextUpdate, revoked)
            : throw new TlsSetupException($"its signature does not verify with {issuer.Subject}'s key");
    }

    private static bool IsTime(Asn1Tag tag) => tag.HasSameClassAndValue(Asn1Tag.UtcTime) || tag.HasSameClassAndValue(Asn1Tag.GeneralizedTime);

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    // A serial as the same hex whatever its encoding's leading zero byte.
    private static string Serial(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 1 && bytes[0] == 0)
        {
            bytes = bytes[1..];
        }

        return Convert.ToHexString(bytes);
    }
}
