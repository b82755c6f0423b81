using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace Outpost.Deploy.Tests;

/// <summary>
/// Plays a rendered Kustomize overlay with <c>podman kube play</c>, as an operator without a cluster would:
/// Secrets become podman secrets first (podman 4.3 stores a Secret document in a form its own secretKeyRef cannot read:
/// a secretKeyRef reads a podman secret holding a JSON map of base64 values), the rest is played as rendered.
/// <see cref="DisposeAsync"/> takes it all down: pods, volumes, secrets.
/// </summary>
public sealed class KubePlay : IAsyncDisposable
{
    private readonly string _file;
    private readonly IReadOnlyDictionary<string, string>? _podman;
    private readonly List<string> _secrets = [];
    private readonly List<string> _volumes = [];
    private readonly List<string> _pods = [];

    private KubePlay(string file, IReadOnlyDictionary<string, string>? podman)
    {
        _file = file;
        _podman = podman;
    }

    /// <summary>The manifest as played (without its Secrets, which are podman secrets): what a store's deploy agent is given.</summary>
    public string ManifestFile => _file;

    /// <summary>
    /// Writes an overlay of <paramref name="baseDirectory"/> (a directory of the repository's deploy/kubernetes) with these
    /// extra lines, renders it and plays it; <paramref name="podman"/>: environment for podman (a store's own storage).
    /// </summary>
    public static async Task<KubePlay> StartAsync(string baseDirectory, string overlay, IReadOnlyDictionary<string, string>? podman = null)
    {
        var directory = Directory.CreateTempSubdirectory("outpost-overlay-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "kustomization.yaml"),
            $"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {Path.GetRelativePath(directory, Manifests.Directory(baseDirectory))}\n{overlay}");
        var rendered = await Shell.KustomizeAsync(directory);
        var play = new KubePlay(Path.Combine(directory, "play.yaml"), podman);
        var rest = new List<string>();
        foreach (var document in Manifests.Documents(rendered))
        {
            var o = Assert.Single(Manifests.Load(document));
            switch (o)
            {
                case V1Secret secret:
                    await play.CreateSecretAsync(secret);
                    break;
                case V1PersistentVolumeClaim claim:
                    play._volumes.Add(claim.Metadata.Name);
                    await play.PodmanAsync("volume", "rm", "-f", claim.Metadata.Name); // a fresh volume, as a new cluster gives
                    rest.Add(document);
                    break;
                case V1Deployment deployment:
                    play._pods.Add(deployment.Metadata.Name + "-pod-0"); // podman's name for a Deployment's pod
                    rest.Add(document);
                    break;
                default:
                    rest.Add(document);
                    break;
            }
        }

        await File.WriteAllTextAsync(play._file, string.Join("\n---\n", rest));
        var result = await play.PodmanAsync("kube", "play", play._file);
        Assert.True(result.ExitCode == 0, $"podman kube play {baseDirectory} failed:{Environment.NewLine}{result.All}");
        return play;
    }

    /// <summary>The logs of the pods' containers (for a failure message).</summary>
    public async Task<string> LogsAsync()
    {
        var text = new StringBuilder();
        foreach (var pod in _pods)
        {
            var names = (await PodmanAsync("ps", "-a", "--filter", $"pod={pod}", "--format", "{{.Names}}")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var name in names.Where(n => !n.EndsWith("-infra", StringComparison.Ordinal)))
            {
                text.AppendLine($"--- {name}:").AppendLine((await PodmanAsync("logs", "--tail", "30", name)).All);
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await PodmanAsync("kube", "down", _file);
        foreach (var volume in _volumes)
        {
            await PodmanAsync("volume", "rm", "-f", volume);
        }

        foreach (var secret in _secrets)
        {
            await PodmanAsync("secret", "rm", secret);
        }

        Directory.Delete(Path.GetDirectoryName(_file)!, recursive: true);
    }

    /// <summary>podman with this play's environment, whatever it exits with.</summary>
    public Task<ShellResult> PodmanAsync(params string[] arguments) => Shell.RunAsync("podman", arguments, TimeSpan.FromMinutes(3), environment: _podman);

    private async Task CreateSecretAsync(V1Secret secret)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            values[key] = Convert.ToBase64String(value);
        }

        foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>())
        {
            values[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
        }

        var name = secret.Metadata.Name;
        await PodmanAsync("secret", "rm", name);
        var result = await Shell.RunAsync("podman", ["secret", "create", name, "-"], TimeSpan.FromSeconds(30), input: JsonSerializer.Serialize(values), environment: _podman);
        Assert.True(result.ExitCode == 0, $"podman secret create {name}: {result.All}");
        _secrets.Add(name);
    }
}
