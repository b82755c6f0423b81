using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Outpost.Sync.Tests;

/// <summary>An <c>outpost</c> command run as a real child process, killed with SIGKILL by the test.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Enqueue(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Enqueue("stderr: " + e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string Outpost
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "outpost");
            Assert.True(File.Exists(path), $"the outpost command was not built beside the tests ({path}): build src/Outpost.Cli");
            return path;
        }
    }

    public IEnumerable<string> Lines => _lines;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts with more environment variables (a secret kept off the command line, as an operator would).</summary>
    public static ChildProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Outpost, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return new ChildProcess(Process.Start(start)!);
    }

    /// <summary>SIGTERM, and waits (bounded) for the process to stop by itself.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit(5_000);
            if (!_process.WaitForExit(30_000))
            {
                Kill();
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (_process.HasExited && !_lines.Any(match))
            {
                break;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return _lines.FirstOrDefault(match) ?? throw new TimeoutException($"no matching line within {timeout}; output:\n{string.Join('\n', _lines)}");
    }

    /// <summary>SIGKILL: no shutdown, no flush, no clean close.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
