using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Outpost.Testing;

/// <summary>A real MQTT broker for a test: Debian's mosquitto on a free loopback port, its session state in memory.</summary>
public sealed class Mosquitto : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/mosquitto";
    private readonly Process _process;
    private readonly string _directory;

    private Mosquitto(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The broker's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The broker, as the store's configuration names it.</summary>
    public Uri Uri => new($"mqtt://127.0.0.1:{Port}");

    /// <summary>Starts a broker and waits until it accepts connections.</summary>
    public static async Task<Mosquitto> StartAsync()
    {
        Assert.True(File.Exists(Binary), $"The MQTT tests need Debian's mosquitto at {Binary}; install it with: apt-get install -y mosquitto");
        var directory = Path.Combine(Path.GetTempPath(), "outpost-mosquitto", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var config = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            persistence false
            max_queued_messages 100000
            log_dest stderr
            log_type error
            """, TestContext.Current.CancellationToken);
        var process = Process.Start(new ProcessStartInfo(Binary, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var broker = new Mosquitto(process, directory, port);
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
                return broker;
            }
            catch (SocketException)
            {
                Assert.False(process.HasExited, $"mosquitto exited with {(process.HasExited ? process.ExitCode : 0)} on port {port}");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        await broker.DisposeAsync();
        Assert.Fail($"mosquitto did not accept connections on 127.0.0.1:{port} within 10 s");
        return broker;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
