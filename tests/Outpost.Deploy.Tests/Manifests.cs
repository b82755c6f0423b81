using k8s;
using k8s.Models;

namespace Outpost.Deploy.Tests;

/// <summary>The repository's Kustomize directories rendered as `kubectl apply -k` would send them, and read back typed.</summary>
public static class Manifests
{
    public static string Directory(string relative) => Path.Combine(Shell.RepositoryRoot, "deploy", "kubernetes", relative);

    /// <summary>
    /// Every document, deserialised strictly into the Kubernetes API's own types (KubernetesClient's models, generated from
    /// the API's OpenAPI schema): a field the API does not know, or a value of the wrong type, fails.
    /// </summary>
    public static List<IKubernetesObject> Load(string yaml) =>
        [.. KubernetesYaml.LoadAllFromString(yaml, strict: true).Cast<IKubernetesObject>()];

    /// <summary>The rendered stream split into its documents' texts.</summary>
    public static List<string> Documents(string yaml) =>
        [.. yaml.Split("\n---\n").Select(d => d.Trim()).Where(d => d.Length > 0)];

    public static T Named<T>(IEnumerable<IKubernetesObject> objects, string name) where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(objects.OfType<T>(), o => o.Metadata.Name == name);
}
