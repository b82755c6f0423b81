namespace Outpost.Cli.Commands;

/// <summary>
/// Checks of a node's settings made before anything starts, so that a container with bad configuration stops at once
/// with one line naming the setting and a non-zero exit, never as a half-started server.
/// </summary>
internal static class StartupChecks
{
    /// <summary>The exit code of a command refused for its settings.</summary>
    public const int BadSettings = 2;

    /// <summary>Null when <paramref name="path"/> is (or can be made) a folder this process can write into; otherwise why not.</summary>
    public static string? WritableDirectory(string path)
    {
        var probe = Path.Combine(path, $".outpost-write-probe-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(path);
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return ex.Message;
        }
    }

    /// <summary>Parses an http(s) address; null when <paramref name="value"/> is not one.</summary>
    public static Uri? HttpAddress(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    /// <summary>Null when every address in <paramref name="urls"/> (separated by ';') is an http(s) address to listen on.</summary>
    public static string? ListenAddresses(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel also takes http://*:5090 and http://+:5090, which are not URIs.
            if (HttpAddress(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal)) is null)
            {
                return url;
            }
        }

        return urls.Trim().Length == 0 ? "(empty)" : null;
    }

    /// <summary>True when <paramref name="id"/> names a time zone this machine knows (IANA, from tzdata).</summary>
    public static bool KnownTimeZone(string id) => TimeZoneInfo.TryFindSystemTimeZoneById(id, out _);
}
