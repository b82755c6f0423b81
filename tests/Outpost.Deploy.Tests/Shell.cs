using System.Diagnostics;
using System.Text;

namespace Outpost.Deploy.Tests;

/// <summary>What a command printed and how it ended.</summary>
public sealed record ShellResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;
}

/// <summary>Runs the real tools (podman, buildah, kubectl, the build scripts) with a time limit, as an operator would.</summary>
public static class Shell
{
    /// <summary>The repository's root (where Outpost.slnx is).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>
    /// The podman settings these machines need (TOOLCHAIN): runc, cgroupfs and explicit ulimits, which `podman kube play`
    /// takes only from a containers.conf.
    /// </summary>
    public static string ContainersConf { get; } = WriteContainersConf();

    public static async Task<ShellResult> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, string? input = null,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CONTAINERS_CONF"] = ContainersConf;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (error) { error.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout.TotalSeconds:0} s. It printed:{Environment.NewLine}{output}{error}");
        }

        process.WaitForExit();
        lock (output)
        {
            lock (error)
            {
                return new ShellResult(process.ExitCode, output.ToString(), error.ToString());
            }
        }
    }

    /// <summary>podman with the machine's settings; fails the test with what podman said when it exits non-zero.</summary>
    public static async Task<string> PodmanAsync(params string[] arguments)
    {
        var result = await RunAsync("podman", arguments, TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, $"podman {string.Join(' ', arguments)} exited {result.ExitCode}:{Environment.NewLine}{result.All}");
        return result.Output.Trim();
    }

    /// <summary>podman, whatever it exits with (for clean-up).</summary>
    public static Task<ShellResult> PodmanQuietAsync(params string[] arguments) => RunAsync("podman", arguments, TimeSpan.FromMinutes(2));

    /// <summary>`kubectl kustomize DIR`: the manifests an overlay renders, as `kubectl apply -k` would send them.</summary>
    public static async Task<string> KustomizeAsync(string directory)
    {
        Assert.True(File.Exists("/usr/bin/kubectl") || Which("kubectl"),
            "The manifest tests render Kustomize overlays with 'kubectl kustomize': install kubectl (it ships with this machine image; elsewhere see https://kubernetes.io/docs/tasks/tools/).");
        var result = await RunAsync("kubectl", ["kustomize", directory], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"kubectl kustomize {directory} failed:{Environment.NewLine}{result.All}");
        return result.Output;
    }

    private static bool Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, tool)));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Outpost.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Outpost.slnx not found above {AppContext.BaseDirectory}");
    }

    private static string WriteContainersConf()
    {
        var path = Path.Combine(Path.GetTempPath(), "outpost-deploy-tests", "containers.conf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, """
            [containers]
            default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
            [engine]
            runtime = "runc"
            cgroup_manager = "cgroupfs"
            """);
        return path;
    }
}
