namespace Outpost.Deploy.Tests;

/// <summary>
/// The images under test, built once per test run with the repository's own scripts (which install podman and buildah
/// when missing) and shared by every container test.
/// </summary>
public sealed class Images : IAsyncLifetime
{
    public const string Outpost = "localhost/outpost:test";
    public const string Postgres = "localhost/outpost-postgres:test";

    public string OutpostDigest { get; private set; } = "";

    public string Work { get; } = Path.Combine(Path.GetTempPath(), "outpost-deploy-tests", "image");

    public async ValueTask InitializeAsync()
    {
        var build = await Shell.RunAsync("bash", ["deploy/image/build.sh", "--tag", Outpost, "--work", Work], TimeSpan.FromMinutes(10));
        Assert.True(build.ExitCode == 0, $"deploy/image/build.sh failed ({build.ExitCode}):{Environment.NewLine}{build.All}");
        OutpostDigest = build.Output.Trim().Split('\n')[^1];
        var postgres = await Shell.RunAsync("bash", ["deploy/image/build-postgres.sh", "--tag", Postgres, "--work", Work + "-postgres"], TimeSpan.FromMinutes(5));
        Assert.True(postgres.ExitCode == 0, $"deploy/image/build-postgres.sh failed ({postgres.ExitCode}):{Environment.NewLine}{postgres.All}");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
