using System.Text.Json;

namespace Outpost.Deploy.Tests;

[Collection(Containers.Name)]
public sealed class ImageTests(Images images)
{
    [Fact]
    public async Task The_image_runs_as_a_non_root_user_with_oci_labels_and_its_bill_of_materials_inside()
    {
        using var inspect = JsonDocument.Parse(await Shell.PodmanAsync("image", "inspect", Images.Outpost));
        var image = inspect.RootElement[0];
        var config = image.GetProperty("Config");
        Assert.Equal("10001:10001", config.GetProperty("User").GetString());
        Assert.Equal(["/app/outpost"], config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        var labels = config.GetProperty("Labels");
        Assert.Matches(@"^\d+\.\d+\.\d+", labels.GetProperty("org.opencontainers.image.version").GetString());
        var revision = (await Shell.RunAsync("git", ["rev-parse", "HEAD"], TimeSpan.FromSeconds(10))).Output.Trim();
        Assert.Equal(revision, labels.GetProperty("org.opencontainers.image.revision").GetString());
        Assert.True(DateTimeOffset.TryParse(labels.GetProperty("org.opencontainers.image.created").GetString(), out _));

        // The bill of materials, read from the image's own file system.
        var mount = await Shell.PodmanAsync("image", "mount", Images.Outpost);
        try
        {
            using var bom = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(mount, "usr/share/outpost/sbom.cdx.json"), TestContext.Current.CancellationToken));
            Assert.Equal("CycloneDX", bom.RootElement.GetProperty("bomFormat").GetString());
            var components = bom.RootElement.GetProperty("components").EnumerateArray()
                .Select(c => c.GetProperty("purl").GetString()!).ToList();
            Assert.Contains(components, p => p.StartsWith("pkg:nuget/Npgsql@", StringComparison.Ordinal));
            Assert.Contains(components, p => p.StartsWith("pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@", StringComparison.Ordinal));
            Assert.Contains(components, p => p.StartsWith("pkg:deb/debian/libc6@", StringComparison.Ordinal));
            Assert.Contains(components, p => p.StartsWith("pkg:deb/debian/libssl3@", StringComparison.Ordinal));

            // Nothing but the data directory belongs to the user the image runs as.
            Assert.Equal("10001:10001", await OwnerAsync(Path.Combine(mount, "data")));
            Assert.Equal("0:0", await OwnerAsync(Path.Combine(mount, "app/outpost")));
            Assert.False(File.Exists(Path.Combine(mount, "bin/sh")), "the image carries no shell");
        }
        finally
        {
            await Shell.PodmanQuietAsync("image", "unmount", Images.Outpost);
        }
    }

    [Fact]
    public async Task The_image_is_smaller_than_150_MB()
    {
        var size = long.Parse(await Shell.PodmanAsync("image", "inspect", "--format", "{{.Size}}", Images.Outpost), System.Globalization.CultureInfo.InvariantCulture);
        TestContext.Current.SendDiagnosticMessage($"image size: {size / 1_000_000.0:0.0} MB");
        Assert.InRange(size, 20_000_000, 150_000_000);
    }

    [Fact]
    public async Task Two_builds_of_one_commit_give_the_same_digest_and_only_the_application_layer_differs_from_another_version()
    {
        var again = await Shell.RunAsync("bash", ["deploy/image/build.sh", "--tag", "localhost/outpost:test-again", "--version", Images.Version, "--work", images.Work + "-again"], TimeSpan.FromMinutes(10));
        Assert.True(again.ExitCode == 0, again.All);
        Assert.Equal(images.OutpostDigest, again.Output.Trim().Split('\n')[^1]);

        // What a registry serves: the manifest digest, which also covers how the layers were compressed on push.
        Assert.Equal(await PushedDigestAsync(Images.Outpost), await PushedDigestAsync("localhost/outpost:test-again"));

        // Another version changes the application layer only: the base layer (Debian packages) and the runtime layer
        // (the .NET runtime packs) are shared, so a store that has one version pulls one small layer for the next.
        var other = await images.NextAsync();
        var layers = await LayersAsync(Images.Outpost);
        var otherLayers = await LayersAsync(other);
        Assert.Equal(3, layers.Count);
        Assert.Equal(layers[0], otherLayers[0]); // the Debian base
        Assert.Equal(layers[1], otherLayers[1]); // the .NET runtime
        Assert.NotEqual(layers[2], otherLayers[2]);
        // Only that name goes: the image of "test-again" is the image of "test" (same id), which the other tests go on using.
        // ("podman untag IMAGE" alone removes every name of the image.)
        await Shell.PodmanQuietAsync("untag", "localhost/outpost:test-again", "localhost/outpost:test-again");
    }

    private static async Task<string> PushedDigestAsync(string image)
    {
        var layout = Directory.CreateTempSubdirectory("outpost-oci-").FullName;
        try
        {
            await Shell.PodmanAsync("push", "--quiet", image, $"oci:{layout}:outpost");
            using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), TestContext.Current.CancellationToken));
            return index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        }
        finally
        {
            Directory.Delete(layout, recursive: true);
        }
    }

    private static async Task<string> OwnerAsync(string path) => (await Shell.RunAsync("stat", ["-c", "%u:%g", path], TimeSpan.FromSeconds(10))).Output.Trim();

    private static async Task<List<string>> LayersAsync(string image)
    {
        using var inspect = JsonDocument.Parse(await Shell.PodmanAsync("image", "inspect", image));
        return [.. inspect.RootElement[0].GetProperty("RootFS").GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!)];
    }
}
