namespace Outpost.Deploy;

/// <summary>
/// A release's settings as the store server reads them: configuration keys (<c>Retail:Checkout:OfflineFloorLimit</c>)
/// become environment variables of its container (<c>OUTPOST_STORE_Retail__Checkout__OfflineFloorLimit</c>), which the
/// store binds over its settings file.
/// </summary>
public static class StoreSettings
{
    /// <summary>The prefix of the store server's environment variables.</summary>
    public const string Prefix = "OUTPOST_STORE_";

    // Only the retail settings are a release's: the rest of the environment (store id, secrets, addresses) is the store's own.
    private const string ReleasePrefix = Prefix + "Retail__";

    /// <summary>The environment variable of a configuration key.</summary>
    public static string Variable(string key) => Prefix + key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Whether a variable carries a release's setting (and so is replaced by the next release's).</summary>
    public static bool IsReleaseVariable(string name) => name.StartsWith(ReleasePrefix, StringComparison.Ordinal);

    /// <summary>The configuration key of a release's variable.</summary>
    public static string Key(string variable) => variable[Prefix.Length..].Replace("__", ":", StringComparison.Ordinal);
}
