using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Outpost.Core.Postgres;

/// <summary>
/// A real, throwaway PostgreSQL 15 server on this machine, for tests and benchmarks: initdb into a temp dir,
/// pg_ctl start on a free loopback port, fresh databases on demand, and a stop by the postmaster's PID at the end.
/// As root the server binaries run as the <c>postgres</c> user (initdb refuses root).
/// </summary>
/// <param name="durable">False turns fsync off (tests: behaviour, not power cuts); true keeps PostgreSQL's defaults (benchmarks).</param>
public sealed class LocalPostgresServer(bool durable = false) : IAsyncDisposable
{
    /// <summary>Where Debian's postgresql-15 package puts the server binaries.</summary>
    public const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private int _databases;

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>A connection string to the server's maintenance database.</summary>
    public string AdminConnectionString => Connection("postgres");

    /// <summary>Creates and starts the server.</summary>
    /// <exception cref="InvalidOperationException">The server binaries are missing or the server did not start.</exception>
    public async Task StartAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
        {
            throw new InvalidOperationException(
                $"The PostgreSQL 15 server binaries are missing ({Bin}/initdb). Install them with 'apt-get install -y postgresql' (./test.sh does this when run as root).");
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The PostgreSQL fixture runs on Linux (Debian's postgresql package).");
        }

        Directory.CreateDirectory(_directory);
        File.SetUnixFileMode(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (IsRoot)
        {
            await RunAsync("chown", "-R", "postgres:postgres", _directory);
        }

        await RunServerAsync("initdb", "-D", DataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C");
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                await StartServerAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Another process took the port between the probe and the start.
            }
        }
    }

    /// <summary>
    /// Stops the server as a crash or a power cut would (<c>pg_ctl stop -m immediate</c>: no checkpoint, every
    /// connection cut), keeps it down for <paramref name="down"/>, and starts it again on the same port and files,
    /// where it recovers from its WAL. With <c>durable: false</c> a crash can lose recent commits, as PostgreSQL
    /// without fsync would.
    /// </summary>
    public async Task RestartAsync(TimeSpan down, CancellationToken cancellationToken = default)
    {
        await CrashAsync();
        await Task.Delay(down, cancellationToken);
        await StartAgainAsync();
    }

    /// <summary>Stops the server as a crash would (<c>pg_ctl stop -m immediate</c>); <see cref="StartAgainAsync"/> brings it back.</summary>
    public Task CrashAsync() => RunServerAsync("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "60", "stop");

    /// <summary>Starts the server again on the same port and files after <see cref="CrashAsync"/>; it recovers from its WAL.</summary>
    public Task StartAgainAsync() => StartServerAsync();

    private Task StartServerAsync() =>
        RunServerAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "-o",
            $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 {(durable ? "" : "-c fsync=off -c full_page_writes=off ")}-c max_connections=400 -c shared_buffers=128MB", "start");

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..24];
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
        return Connection(name);
    }

    /// <summary>The server's main process (the postmaster), whose children are its backends; null when it is not running.</summary>
    public int? ProcessId
    {
        get
        {
            var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
            return File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid) ? pid : null;
        }
    }

    /// <summary>Stops the server (fast shutdown by its PID) and deletes its files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (ProcessId is { } pid)
        {
            try
            {
                // SIGINT: PostgreSQL's "fast" shutdown; then make sure it is gone.
                using var postmaster = Process.GetProcessById(pid);
                await RunAsync("kill", "-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (!postmaster.WaitForExit(TimeSpan.FromSeconds(20)))
                {
                    postmaster.Kill(entireProcessTree: true);
                }
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string DataDirectory => Path.Combine(_directory, "data");

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>A connection string to one of its databases.</summary>
    public string Connection(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=15;Command Timeout=120";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunServerAsync(string tool, params string[] arguments) =>
        IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(Bin, tool), .. arguments]) : RunAsync(Path.Combine(Bin, tool), arguments);

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed ({process.ExitCode}): {await error}{await output}");
        }
    }
}
