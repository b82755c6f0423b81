using k8s.Models;

namespace Outpost.Deploy;

/// <summary>
/// A release written into the store's workload and read back, alike for every runtime: the store container's image,
/// its release settings as <c>OUTPOST_STORE_Retail__…</c> environment variables (the store's own variables kept), and the
/// release's version as an annotation of the Deployment.
/// </summary>
internal static class ReleaseManifest
{
    private const string VersionAnnotation = "outpost.dev/release-version";

    /// <summary>Sets <paramref name="release"/> on the Deployment and its store container.</summary>
    public static void Write(V1ObjectMeta deployment, V1Container store, RunningRelease release)
    {
        store.Image = release.Image;
        var env = (store.Env ?? []).Where(e => !StoreSettings.IsReleaseVariable(e.Name)).ToList();
        env.AddRange(release.Settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new V1EnvVar { Name = StoreSettings.Variable(s.Key), Value = s.Value }));
        store.Env = env;
        deployment.Annotations ??= new Dictionary<string, string>();
        deployment.Annotations[VersionAnnotation] = release.Version;
    }

    /// <summary>The release the Deployment declares; version "installed" when no release was ever applied to it.</summary>
    public static RunningRelease Read(V1ObjectMeta deployment, V1Container store)
    {
        var settings = (store.Env ?? []).Where(e => StoreSettings.IsReleaseVariable(e.Name))
            .ToDictionary(e => StoreSettings.Key(e.Name), e => e.Value ?? "", StringComparer.Ordinal);
        var version = deployment.Annotations?.TryGetValue(VersionAnnotation, out var v) == true ? v : "installed";
        return new RunningRelease(version, store.Image, settings);
    }
}
