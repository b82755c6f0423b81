namespace Outpost.Sync.Security;

/// <summary>How often reloading files are looked at.</summary>
public static class ReloadingFiles
{
    /// <summary>At most once a second: a renewed certificate is in use a second after it is written.</summary>
    public static TimeSpan CheckInterval { get; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A value read from files that are replaced in place while the process runs (a renewed certificate, a new CRL): the
/// files are looked at again at most once per <see cref="ReloadingFiles.CheckInterval"/> (their size and last write time), and when one
/// changed the value is read again. A read that fails (a file half written, a key that does not match its certificate)
/// keeps the previous value, and <see cref="LastError"/> says why; the first read must succeed.
/// </summary>
/// <typeparam name="T">What the files hold.</typeparam>
public sealed class ReloadingFiles<T>
    where T : class
{
    private readonly string[] _paths;
    private readonly Func<T> _read;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private T _value;
    private string _stamp;
    private DateTimeOffset _checkedAt;

    /// <summary>Reads the value once; throws <see cref="TlsSetupException"/> when it cannot, saying <paramref name="what"/> and why.</summary>
    /// <param name="paths">The files the value is read from.</param>
    /// <param name="read">Reads them; throws <see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>, <see cref="System.Security.Cryptography.CryptographicException"/>, <see cref="ArgumentException"/> or <see cref="TlsSetupException"/> when they cannot be used.</param>
    /// <param name="what">What they are, for the message.</param>
    /// <param name="time">The clock the checks are spaced on.</param>
    public ReloadingFiles(IEnumerable<string> paths, Func<T> read, string what, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _paths = [.. paths.Select(Path.GetFullPath)];
        _read = read;
        _time = time ?? TimeProvider.System;
        _stamp = Stamp();
        _value = TryRead() ?? throw new TlsSetupException($"{what} cannot be used: {LastError}");
        _checkedAt = _time.GetUtcNow();
    }

    /// <summary>Why the files as they are now could not be read (the previous value is in use), or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>The value, read again first when a file changed since the last look (at most once per <see cref="ReloadingFiles.CheckInterval"/>).</summary>
    public T Value
    {
        get
        {
            var now = _time.GetUtcNow();
            if (now - _checkedAt < ReloadingFiles.CheckInterval)
            {
                return _value;
            }

            lock (_gate)
            {
                if (now - _checkedAt >= ReloadingFiles.CheckInterval)
                {
                    _checkedAt = now;
                    var stamp = Stamp();
                    if (stamp != _stamp)
                    {
                        _stamp = stamp;
                        if (TryRead() is { } next)
                        {
                            _value = next;
                        }
                    }
                }
            }

            return _value;
        }
    }

    private string Stamp() => string.Join("|", _paths.Select(p => new FileInfo(p) is { Exists: true } f ? $"{f.Length}@{f.LastWriteTimeUtc.Ticks}" : "absent"));

    private T? TryRead()
    {
        try
        {
            var value = _read();
            LastError = null;
            return value;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException or TlsSetupException)
        {
            LastError = ex.Message.ReplaceLineEndings(" ");
            return null;
        }
    }
}
