namespace Outpost.Deploy.Tests;

/// <summary>
/// The images under test, built once per test run with the repository's own scripts (which install podman and buildah
/// when missing) and shared by every container test: Outpost as version 1.0.0, and on first use the next version
/// (1.0.1, a second real build) and a broken one (1.0.2: 1.0.1 whose store server cannot start).
/// </summary>
public sealed class Images : IAsyncLifetime
{
    public const string Outpost = "localhost/outpost:test";
    public const string Postgres = "localhost/outpost-postgres:test";
    public const string Next = "localhost/outpost:test-next";
    public const string Broken = "localhost/outpost:test-broken";
    public const string Version = "1.0.0";
    public const string NextVersion = "1.0.1";
    public const string BrokenVersion = "1.0.2";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _next;
    private bool _broken;

    public string OutpostDigest { get; private set; } = "";

    public string Work { get; } = Path.Combine(Path.GetTempPath(), "outpost-deploy-tests", "image");

    /// <summary>The self-contained publish inside <see cref="Outpost"/> (the binary a store's host runs the agent from).</summary>
    public string Binary => Path.Combine(Work, "publish", "outpost");

    public async ValueTask InitializeAsync()
    {
        var build = await Shell.RunAsync("bash", ["deploy/image/build.sh", "--tag", Outpost, "--version", Version, "--work", Work], TimeSpan.FromMinutes(10));
        Assert.True(build.ExitCode == 0, $"deploy/image/build.sh failed ({build.ExitCode}):{Environment.NewLine}{build.All}");
        OutpostDigest = build.Output.Trim().Split('\n')[^1];
        var postgres = await Shell.RunAsync("bash", ["deploy/image/build-postgres.sh", "--tag", Postgres, "--work", Work + "-postgres"], TimeSpan.FromMinutes(5));
        Assert.True(postgres.ExitCode == 0, $"deploy/image/build-postgres.sh failed ({postgres.ExitCode}):{Environment.NewLine}{postgres.All}");
    }

    /// <summary>Builds <see cref="Next"/> (version 1.0.1) the first time it is asked for.</summary>
    public async Task<string> NextAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (!_next)
            {
                var build = await Shell.RunAsync("bash", ["deploy/image/build.sh", "--tag", Next, "--version", NextVersion, "--work", Work + "-next"], TimeSpan.FromMinutes(10));
                Assert.True(build.ExitCode == 0, $"deploy/image/build.sh --version {NextVersion} failed ({build.ExitCode}):{Environment.NewLine}{build.All}");
                _next = true;
            }

            return Next;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Builds <see cref="Broken"/> the first time it is asked for: <see cref="Next"/> labelled 1.0.2 whose entrypoint
    /// passes an option the command does not know, so the store server exits at once, every time it is started.
    /// </summary>
    public async Task<string> BrokenAsync()
    {
        var next = await NextAsync();
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (!_broken)
            {
                var container = (await Shell.RunAsync("buildah", ["from", next], TimeSpan.FromMinutes(1))).Output.Trim();
                try
                {
                    var config = await Shell.RunAsync("buildah", ["config", "--entrypoint", """["/app/outpost","--no-such-option"]""",
                        "--label", $"org.opencontainers.image.version={BrokenVersion}", container], TimeSpan.FromMinutes(1));
                    Assert.True(config.ExitCode == 0, config.All);
                    var commit = await Shell.RunAsync("buildah", ["commit", "--quiet", container, Broken], TimeSpan.FromMinutes(2));
                    Assert.True(commit.ExitCode == 0, commit.All);
                }
                finally
                {
                    await Shell.RunAsync("buildah", ["rm", container], TimeSpan.FromMinutes(1));
                }

                _broken = true;
            }

            return Broken;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Pushes <paramref name="image"/> to <paramref name="registry"/> as outpost:<paramref name="tag"/>; returns the reference pinned by the digest the push reported.</summary>
    public static async Task<string> PushAsync(Outpost.Testing.Registry registry, string image, string tag)
    {
        var digestFile = Path.GetTempFileName();
        var pushed = await Shell.RunAsync("podman", ["push", "--tls-verify=false", "--digestfile", digestFile, image, $"{registry.Address}/outpost:{tag}"], TimeSpan.FromMinutes(3));
        Assert.True(pushed.ExitCode == 0, pushed.All);
        var digest = (await File.ReadAllTextAsync(digestFile, TestContext.Current.CancellationToken)).Trim();
        File.Delete(digestFile);
        return $"{registry.Address}/outpost@{digest}";
    }

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
