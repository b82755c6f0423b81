using System.Diagnostics;
using System.Reflection;

namespace Outpost.Cli.Bench;

/// <summary>
/// An <c>outpost</c> command (<c>central</c>, <c>store</c>) run by a benchmark as its own process, as it runs in
/// production: its garbage collector, thread pool and JIT carry only its own work, not the simulated devices'.
/// Killed with its children when disposed.
/// </summary>
internal sealed class OutpostProcess : IAsyncDisposable
{
    private const int TailLines = 40;
    private readonly Queue<string> _tail = new();

    private OutpostProcess(Process process) => Process = process;

    public Process Process { get; }

    public int Id => Process.Id;

    /// <summary>
    /// Starts this same executable with the given arguments (and environment variables, added to this process's);
    /// with <paramref name="redirectInput"/> its standard input is <see cref="Process"/>'s to write, and
    /// <paramref name="onLine"/> sees each line it writes.
    /// </summary>
    public static OutpostProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null,
        bool redirectInput = false, Action<string>? onLine = null)
    {
        // The outpost executable itself when it is what runs; otherwise (dotnet outpost.dll, dotnet run, a test host)
        // the same outpost.dll through the dotnet host.
        var self = Environment.ProcessPath!;
        var outpost = typeof(OutpostProcess).Assembly;
        var viaHost = Assembly.GetEntryAssembly() != outpost || Path.GetFileNameWithoutExtension(self) == "dotnet";
        var host = Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(viaHost ? host : self) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false };
        if (viaHost)
        {
            start.ArgumentList.Add(outpost.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        var child = new OutpostProcess(Process.Start(start)!);
        child.Process.OutputDataReceived += (_, e) =>
        {
            child.Keep(e.Data);
            if (e.Data is { } line)
            {
                onLine?.Invoke(line);
            }
        };
        child.Process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        return child;
    }

    /// <summary>A free TCP port on 127.0.0.1 for the child to listen on.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits (at most 60 s) until the child answers <c>/health/ready</c>; says why if it exits first.</summary>
    /// <summary>
    /// Whether this process is the one listening on <paramref name="port"/> of the loopback (Linux: the listening
    /// socket's inode among its file descriptors). Another server that took the port between <see cref="FreePort"/>
    /// and this process's start would answer the readiness probe in its place; where /proc is missing, assumed.
    /// </summary>
    private bool ListensOn(int port)
    {
        if (!File.Exists("/proc/net/tcp"))
        {
            return true;
        }

        var hexPort = ":" + port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        var inodes = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 9 && f[1].EndsWith(hexPort, StringComparison.Ordinal) && f[3] == "0A")
            .Select(f => "socket:[" + f[9] + "]").ToHashSet(StringComparer.Ordinal);
        try
        {
            return Directory.EnumerateFiles($"/proc/{Process.Id}/fd").Any(fd => new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Waits until the process answers <c>/health/ready</c> from the port it should own, for a minute or <paramref name="within"/>.</summary>
    public async Task WaitUntilReadyAsync(HttpClient client, CancellationToken cancellationToken, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(60);
        var waiting = Stopwatch.StartNew();
        while (waiting.Elapsed < limit)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The {Name} process exited with code {Process.ExitCode}. Its last output:{Environment.NewLine}{Tail}");
            }

            try
            {
                using var response = await client.GetAsync("/health/ready", cancellationToken);
                if (response.IsSuccessStatusCode && ListensOn(client.BaseAddress!.Port))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet, or too busy starting to answer within the client's timeout.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"The {Name} process did not answer /health/ready within {limit.TotalSeconds:F0} s. Its last output:{Environment.NewLine}{Tail}");
    }

    /// <summary>Its resident memory now.</summary>
    public long ResidentBytes
    {
        get
        {
            Process.Refresh();
            return Process.WorkingSet64;
        }
    }

    /// <summary>The CPU time it has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            Process.Refresh();
            return Process.TotalProcessorTime;
        }
    }

    /// <summary>The last lines it wrote, for an error message.</summary>
    public string Tail
    {
        get
        {
            lock (_tail)
            {
                return string.Join(Environment.NewLine, _tail);
            }
        }
    }

    private string Name => Process.StartInfo.ArgumentList.FirstOrDefault(a => !a.EndsWith(".dll", StringComparison.Ordinal)) ?? "outpost";

    public async ValueTask DisposeAsync()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        await Process.WaitForExitAsync(CancellationToken.None);
        Process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
    }
}

/// <summary>A process's CPU use over a stretch of time, in percent of one core.</summary>
internal sealed class ProcessUsage(OutpostProcess process)
{
    private readonly TimeSpan _cpuAtStart = process.CpuTime;
    private readonly long _startedAt = Stopwatch.GetTimestamp();

    public long ResidentBytes => process.ResidentBytes;

    /// <summary>CPU used since this was created, in percent of one core.</summary>
    public double CpuPercent => (process.CpuTime - _cpuAtStart).TotalMilliseconds / Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds * 100;
}
