using System.Text.Json;
using Outpost.Testing;

namespace Outpost.Deploy.Tests;

/// <summary>The image through a real registry, as docs/deploy.md ships it to stores: pushed, pulled back by digest.</summary>
[Collection(Containers.Name)]
public sealed class RegistryTests(Images images)
{
    [Fact]
    public async Task The_image_pushed_to_a_registry_is_pulled_back_by_digest_and_a_second_push_sends_no_layer_again()
    {
        Assert.NotEmpty(images.OutpostDigest);
        await using var registry = await Registry.StartAsync();
        var digestFile = Path.GetTempFileName();
        var pushed = await Shell.RunAsync("podman", ["--log-level=debug", "push", "--tls-verify=false", "--digestfile", digestFile, Images.Outpost, $"{registry.Address}/outpost:0.1.0"],
            TimeSpan.FromMinutes(3));
        Assert.True(pushed.ExitCode == 0, pushed.All);
        Assert.Contains("/blobs/uploads/", pushed.All, StringComparison.Ordinal); // the first push sends the layers
        var digest = (await File.ReadAllTextAsync(digestFile, TestContext.Current.CancellationToken)).Trim();
        File.Delete(digestFile);

        // The registry serves the digest the push reported.
        var inspect = await Shell.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{registry.Address}/outpost:0.1.0"], TimeSpan.FromMinutes(1));
        Assert.True(inspect.ExitCode == 0, inspect.All);
        Assert.Equal(digest, JsonDocument.Parse(inspect.Output).RootElement.GetProperty("Digest").GetString());

        // A store pulls it by digest (what the manifests pin), and gets the same image. The store is a podman with storage of
        // its own, empty as a new store's: pulling into the test machine's storage, which already holds the image, would
        // prove nothing, and removing a digest reference there can remove the image the other tests use.
        var store = Directory.CreateTempSubdirectory("outpost-store-storage-").FullName;
        try
        {
            string[] storage = ["--root", Path.Combine(store, "root"), "--runroot", Path.Combine(store, "run"), "--storage-driver", "vfs"];
            var byDigest = $"{registry.Address}/outpost@{digest}";
            var pulled = await Shell.RunAsync("podman", [.. storage, "pull", "--tls-verify=false", byDigest], TimeSpan.FromMinutes(3));
            Assert.True(pulled.ExitCode == 0, pulled.All);
            Assert.Equal(await Shell.PodmanAsync("image", "inspect", "--format", "{{.Id}}", Images.Outpost),
                await Shell.PodmanAsync([.. storage, "image", "inspect", "--format", "{{.Id}}", byDigest]));
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }

        // The same image under another tag: every blob is already there, nothing is sent twice.
        // (podman asks the registry for each blob by digest, HEAD /v2/.../blobs/<digest>, and uploads only what is missing.)
        var again = await Shell.RunAsync("podman", ["--log-level=debug", "push", "--tls-verify=false", Images.Outpost, $"{registry.Address}/outpost:again"], TimeSpan.FromMinutes(3));
        Assert.True(again.ExitCode == 0, again.All);
        Assert.Contains("HEAD http://" + registry.Address + "/v2/outpost/blobs/sha256:", again.All, StringComparison.Ordinal);
        Assert.DoesNotContain("/blobs/uploads/", again.All, StringComparison.Ordinal);
    }
}
