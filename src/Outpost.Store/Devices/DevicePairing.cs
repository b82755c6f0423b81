using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Outpost.Core.Events;
using Outpost.Core.Log;

using Outpost.Retail.Telemetry;

namespace Outpost.Store.Devices;

/// <summary>A pairing code the back office shows for a new device: single use, for a few minutes.</summary>
/// <param name="Code">Eight digits, written <c>1234-5678</c>.</param>
/// <param name="Name">The device it will enrol.</param>
/// <param name="Role">Its role.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="PairUrl">The store's start page with the code in its fragment (which browsers never send to a server), for the QR code.</param>
/// <param name="QrSvg">That address as a QR code (SVG), for the device's camera.</param>
public sealed record PairingCode(string Code, string Name, string Role, DateTimeOffset ExpiresAt, string PairUrl, string QrSvg);

/// <summary>
/// Pairing devices instead of handing them tokens in page addresses: the back office asks for a code for a named device
/// and role; the device (its start page, or the QR code of the address with the code in its fragment) exchanges the code
/// once, within <see cref="Lifetime"/>, for its credential, which the store sets as an HttpOnly cookie (or, for a device
/// that is not a browser, returns in the answer's body). Codes are kept as SHA-256 hashes in memory only: a restart
/// forgets the codes not yet used, never a paired device. Every pairing, failure and revocation is audited.
/// </summary>
public sealed class DevicePairing(DeviceRegistry devices, IEventLog log, TimeProvider time)
{
    /// <summary>The audit topic.</summary>
    public const string AuditTopic = TelemetryEvents.SecurityTopic;

    private readonly ConcurrentDictionary<string, Pending> _codes = new(StringComparer.Ordinal);

    /// <summary>How long a code works, unless the back office asks for another (1 to 60 minutes).</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromMinutes(10);

    /// <summary>A new code for a device to be named <paramref name="name"/> with <paramref name="role"/>.</summary>
    /// <exception cref="ArgumentException">Unknown role, bad name, or a lifetime outside 1 to 60 minutes.</exception>
    /// <param name="name">What staff call the device.</param>
    /// <param name="role">Its role.</param>
    /// <param name="by">The back-office device asking.</param>
    /// <param name="lifetime">How long the code works; null for <see cref="Lifetime"/>.</param>
    /// <param name="origin">The store's address as the back office reached it (<c>https://store-042.example.com</c>), for the QR code.</param>
    /// <param name="cancellationToken">Cancels the audit write.</param>
    public async Task<PairingCode> CreateAsync(string name, string role, string by, TimeSpan? lifetime, string origin, CancellationToken cancellationToken)
    {
        DeviceRegistry.CheckEnrolment(name, role);
        var life = lifetime ?? Lifetime;
        if (life < TimeSpan.FromMinutes(1) || life > TimeSpan.FromMinutes(60))
        {
            throw new ArgumentException("A pairing code lasts 1 to 60 minutes.", nameof(lifetime));
        }

        Sweep();
        var digits = RandomNumberGenerator.GetInt32(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture);
        var code = digits[..4] + "-" + digits[4..];
        var expires = time.GetUtcNow() + life;
        _codes[Hash(digits)] = new Pending(name.Trim(), role, by, expires);
        await AuditAsync("PairingCreated", null, null, by, $"a pairing code for a {role} named '{name.Trim()}', until {expires:HH:mm:ss} UTC", cancellationToken);
        var url = origin.TrimEnd('/') + "/#pair=" + code;
        return new PairingCode(code, name.Trim(), role, expires, url, QrCode.Svg(url));
    }

    /// <summary>Enrols the device a live code was made for and forgets the code; null (audited) when the code is unknown, used or expired.</summary>
    public async Task<EnrolledDevice?> RedeemAsync(string code, string? address, CancellationToken cancellationToken)
    {
        var digits = new string([.. (code ?? "").Where(char.IsAsciiDigit)]);
        var now = time.GetUtcNow();
        if (digits.Length == 8 && _codes.TryRemove(Hash(digits), out var pending) && pending.ExpiresAt > now)
        {
            var enrolled = await devices.EnrolAsync(pending.Name, pending.Role, pending.By, cancellationToken);
            await AuditAsync("DevicePaired", address, enrolled.Device.Id, pending.By, $"a {pending.Role} named '{pending.Name}' paired", cancellationToken);
            return enrolled;
        }

        await AuditAsync("PairingFailed", address, null, null, digits.Length == 8 ? "an unknown, used or expired pairing code" : "a malformed pairing code", cancellationToken);
        return null;
    }

    /// <summary>Records a security event.</summary>
    public async Task AuditAsync(string action, string? address, string? deviceId, string? by, string detail, CancellationToken cancellationToken) =>
        await log.AppendAsync(new NewEvent
        {
            Topic = AuditTopic,
            Type = TelemetryEvents.SecurityAudit,
            Key = deviceId ?? address ?? action,
            Payload = NewEvent.Json(new SecurityAuditV1(action, address, deviceId, by, detail, time.GetUtcNow()), TelemetryJsonContext.Default.SecurityAuditV1),
        }, cancellationToken);

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (hash, pending) in _codes)
        {
            if (pending.ExpiresAt <= now)
            {
                _codes.TryRemove(hash, out _);
            }
        }
    }

    private static string Hash(string digits) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(digits)));

    private sealed record Pending(string Name, string Role, string By, DateTimeOffset ExpiresAt);
}
