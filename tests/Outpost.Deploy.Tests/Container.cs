namespace Outpost.Deploy.Tests;

/// <summary>A container the test started with <c>podman run</c>, removed (with its data folder) when disposed.</summary>
public sealed class Container(string name, string dataDirectory) : IAsyncDisposable
{
    public string Name { get; } = name;

    public string DataDirectory { get; } = dataDirectory;

    /// <summary>Starts <see cref="Images.Outpost"/> with host networking, a read-only root and <paramref name="dataDirectory"/> as /data.</summary>
    public static async Task<Container> RunAsync(string name, IEnumerable<string> options, params string[] command)
    {
        await Shell.PodmanQuietAsync("rm", "-f", "-t", "0", name);
        var data = Directory.CreateTempSubdirectory($"outpost-{name}-").FullName;
        var chown = await Shell.RunAsync("chown", ["10001:10001", data], TimeSpan.FromSeconds(10));
        Assert.True(chown.ExitCode == 0, "the container tests run as root, to give the data folder to the image's user: " + chown.All);
        List<string> arguments = ["run", "-d", "--name", name, "--network=host", "--read-only", "-v", $"{data}:/data", .. options, Images.Outpost, .. command];
        await Shell.PodmanAsync([.. arguments]);
        return new Container(name, data);
    }

    /// <summary>What the container printed (for a failure message).</summary>
    public async Task<string> LogsAsync() => (await Shell.PodmanQuietAsync("logs", "--tail", "60", Name)).All;

    public async Task<string> InspectAsync(string format) => await Shell.PodmanAsync("inspect", "--format", format, Name);

    public async ValueTask DisposeAsync()
    {
        await Shell.PodmanQuietAsync("rm", "-f", "-t", "0", Name);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
