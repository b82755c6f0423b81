using Outpost.Cli.Bench;

namespace Outpost.Cli.Simulation;

/// <summary>
/// An <c>outpost</c> server (a store, an HQ node) run by the simulation as a child process at a fixed address, as it
/// runs in production: killed with SIGKILL and started again on the same files and port. Its CPU is counted over
/// all its lives, not only the current one. With <paramref name="logFile"/> what it writes goes there too, over all
/// its lives (the evidence when a verdict fails).
/// </summary>
internal sealed class ServerProcess(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, Uri address, string? logFile = null) : IAsyncDisposable
{
    private StreamWriter? _log = logFile is null ? null : new StreamWriter(logFile, append: true) { AutoFlush = true };
    private readonly Lock _gate = new();
    private OutpostProcess? _process;
    private TimeSpan _cpuOfEarlierLives;
    private volatile bool _ready;

    /// <summary>Where it listens.</summary>
    public Uri Address => address;

    /// <summary>Whether it runs now: started, answering, not killed since.</summary>
    public bool Running => _ready;

    /// <summary>CPU used over all its lives so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            lock (_gate)
            {
                return _cpuOfEarlierLives + (_process is { } process ? Alive(() => process.CpuTime) : TimeSpan.Zero);
            }
        }
    }

    /// <summary>Resident memory now; 0 while it is down.</summary>
    public long ResidentBytes
    {
        get
        {
            lock (_gate)
            {
                return _process is { } process ? Alive(() => process.ResidentBytes) : 0;
            }
        }
    }

    /// <summary>How long a start may take until <c>/health/ready</c> answers (a minute by default).</summary>
    public TimeSpan ReadyWithin { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Starts it and waits until it answers <c>/health/ready</c>.</summary>
    /// <remarks>
    /// A process that exits while starting is started again, up to three times, a second apart: while it was down,
    /// another program on this machine may have held its port for a moment (an outgoing connection's local port).
    /// </remarks>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        await KillAsync(); // never two lives at once: a process left over would hold the port and outlive the run
        for (var attempt = 1; ; attempt++)
        {
            var process = OutpostProcess.Start(arguments, environment, onLine: _log is null ? null : Write);
            lock (_gate)
            {
                _process = process;
            }

            try
            {
                await process.WaitUntilReadyAsync(probe, cancellationToken, ReadyWithin);
                _ready = true;
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && process.Process.HasExited)
            {
                await KillAsync();
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>SIGKILL: the process gets no chance to finish anything. Nothing happens when it is already down.</summary>
    public async Task KillAsync()
    {
        OutpostProcess? process;
        _ready = false;
        lock (_gate)
        {
            process = _process;
            _process = null;
            if (process is not null)
            {
                _cpuOfEarlierLives += Alive(() => process.CpuTime);
            }
        }

        if (process is not null)
        {
            await process.DisposeAsync(); // Process.Kill: SIGKILL on Linux
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        lock (_gate)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    private void Write(string line)
    {
        lock (_gate)
        {
            _log?.WriteLine(line);
        }
    }

    /// <summary>A reading of a process that may have just exited (its /proc entry gone): none then.</summary>
    internal static T Alive<T>(Func<T> read) where T : struct
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return default;
        }
    }
}
