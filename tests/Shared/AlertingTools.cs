using System.Diagnostics;

namespace Outpost.Testing;

/// <summary>
/// Prometheus and Alertmanager as an ops team runs them (Debian's packages, each a process of its own on a free
/// loopback port, its storage in a temp folder): Prometheus scrapes HQ every second with the repository's shipped rules
/// and sends what fires to Alertmanager, which routes it to a webhook.
/// </summary>
public sealed class AlertingTools : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _directory;
    private readonly Lock _logs = new();

    private AlertingTools(string directory) => _directory = directory;

    /// <summary>Prometheus's address (its HTTP API).</summary>
    public Uri Prometheus { get; private set; } = null!;

    /// <summary>Alertmanager's address (its HTTP API).</summary>
    public Uri Alertmanager { get; private set; } = null!;

    /// <summary>Starts Alertmanager (routing everything to <paramref name="webhook"/>), then Prometheus scraping <paramref name="hq"/> with <paramref name="rules"/>.</summary>
    public static async Task<AlertingTools> StartAsync(Uri hq, Uri webhook, string rules)
    {
        foreach (var tool in new[] { "/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager" })
        {
            Assert.True(File.Exists(tool), $"The alerting tests need Debian's Prometheus and Alertmanager: apt-get install -y prometheus prometheus-alertmanager (./test.sh does this when run as root); {tool} is missing.");
        }

        var stack = new AlertingTools(Directory.CreateTempSubdirectory("outpost-ops-").FullName);
        try
        {
            var alertmanager = FreeAddress();
            var config = Path.Combine(stack._directory, "alertmanager.yml");
            // Group and send at once (the shipped example waits 30 s and 5 min: an on-call team's pace, not a test's).
            await File.WriteAllTextAsync(config, $"""
                route:
                  receiver: hook
                  group_by: [alertname, store]
                  group_wait: 1s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: hook
                    webhook_configs:
                      - url: {webhook}
                        send_resolved: true
                """);
            stack.Alertmanager = new Uri($"http://{alertmanager}/");
            stack.Start("/usr/bin/prometheus-alertmanager", "--config.file=" + config, "--storage.path=" + Path.Combine(stack._directory, "am"),
                "--web.listen-address=" + alertmanager, "--cluster.listen-address=");
            await stack.ReadyAsync(new Uri(stack.Alertmanager, "-/ready"));

            var prometheus = FreeAddress();
            var scrape = Path.Combine(stack._directory, "prometheus.yml");
            await File.WriteAllTextAsync(scrape, $"""
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files: ["{rules}"]
                alerting:
                  alertmanagers:
                    - static_configs:
                        - targets: ["{alertmanager}"]
                scrape_configs:
                  - job_name: outpost-hq
                    metrics_path: /metrics
                    static_configs:
                      - targets: ["{hq.Authority}"]
                """);
            stack.Prometheus = new Uri($"http://{prometheus}/");
            // Alertmanager answers before Prometheus starts, so the first alert is not dropped; and a resend every second
            // (default: a minute) so an alert Prometheus could not deliver at once is not held back.
            stack.Start("/usr/bin/prometheus", "--config.file=" + scrape, "--storage.tsdb.path=" + Path.Combine(stack._directory, "data"),
                "--web.listen-address=" + prometheus, "--rules.alert.resend-delay=1s");
            await stack.ReadyAsync(new Uri(stack.Prometheus, "-/ready"));
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Start(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var log = Path.Combine(_directory, Path.GetFileName(file) + ".log");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private void Append(string log, string? line)
    {
        if (line is not null)
        {
            lock (_logs)
            {
                File.AppendAllText(log, line + Environment.NewLine);
            }
        }
    }

    private async Task ReadyAsync(Uri ready)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var response = await http.GetAsync(ready, TestContext.Current.CancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
            }

            Assert.False(_processes[^1].HasExited, $"{_processes[^1].StartInfo.FileName} exited ({Logs()})");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"{ready} did not answer within 30 s ({Logs()})");
    }

    /// <summary>The tools' own logs, for a failure's message.</summary>
    public string Logs() => string.Join(Environment.NewLine, Directory.EnumerateFiles(_directory, "*.log").Select(f =>
    {
        lock (_logs)
        {
            var lines = File.ReadAllLines(f);
            return $"--- {Path.GetFileName(f)}:{Environment.NewLine}{string.Join(Environment.NewLine, lines.TakeLast(20))}";
        }
    }));

    private static string FreeAddress()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return $"127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
    }
}
