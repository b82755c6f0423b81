using System.Net;
using System.Net.Sockets;

namespace Outpost.Sync.Faults;

/// <summary>What the proxy does to connections.</summary>
public enum ProxyMode
{
    /// <summary>Forward bytes both ways (with <see cref="FaultProxy.Delay"/> and <see cref="FaultProxy.BytesPerSecond"/>).</summary>
    Pass,

    /// <summary>Close every connection at once: the link is cut.</summary>
    Cut,

    /// <summary>Accept and reset (RST) every connection.</summary>
    Reset,

    /// <summary>Accept, read, never answer: a dead route.</summary>
    Blackhole,

    /// <summary>Forward, but abort each connection after a random number of bytes (mid-request or mid-response).</summary>
    DropMidStream,
}

/// <summary>
/// A TCP proxy between a store and HQ on 127.0.0.1 that injects the failures of a store's internet link:
/// cuts, resets, blackholes, drops in mid-stream, delay and throttling. Counts the bytes it forwards. The demo pulls
/// a store's plug with it, the benchmarks cut links with it, the tests and <c>outpost simulate</c> inject every fault.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private volatile IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient? Server)> _connections = [];
    private readonly Lock _gate = new();
    private readonly Random _random;
    private readonly TimeProvider _clock;
    private readonly Task _accepting;
    private long _bytesUp;
    private long _bytesDown;
    private volatile ProxyMode _mode = ProxyMode.Pass;
    private volatile bool _severed;

    /// <summary>Listens on a free port of 127.0.0.1 and forwards to <paramref name="upstream"/>; <paramref name="seed"/> makes its random faults repeatable.</summary>
    public FaultProxy(Uri upstream, int seed = 1, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        _clock = clock ?? TimeProvider.System;
        _upstream = new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port);
        _random = new Random(seed);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>
    /// How long it tries to reach HQ for a connection before it closes the store's side (10 s: a store's request
    /// timeout). The store believes it is connected as soon as the proxy accepted it; without a bound, an HQ node whose
    /// queue of connections is full (SYNs dropped) would hold the store's side open for the kernel's two minutes of
    /// SYN retries while the store gave up and connected again and again, each time to another waiting connection.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections it holds now (forwarding, or blackholed), for the tests.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_gate)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Where stores connect.</summary>
    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Sends new connections to another HQ node and drops the open ones, as a load balancer failing over does.</summary>
    public void SwitchTo(Uri upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        _upstream = new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port);
        AbortAll();
    }

    /// <summary>Bytes forwarded store → HQ.</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);

    /// <summary>Bytes forwarded HQ → store.</summary>
    public long BytesDown => Interlocked.Read(ref _bytesDown);

    /// <summary>Added latency per forwarded chunk.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Bandwidth limit per direction per connection; 0 is unlimited.</summary>
    public int BytesPerSecond { get; set; }

    /// <summary>What the link does now; a mode other than pass or drop-mid-stream also ends every open connection at once.</summary>
    public ProxyMode Mode
    {
        get => _mode;
        set
        {
            _mode = value;
            if (value != ProxyMode.Pass && value != ProxyMode.DropMidStream)
            {
                AbortAll();
            }
        }
    }

    /// <summary>
    /// While true the link refuses everything (as <see cref="ProxyMode.Reset"/>) whatever <see cref="Mode"/> says: a cut
    /// held by one party that other faults' ends (which set the mode back to pass) do not lift.
    /// </summary>
    public bool Severed
    {
        get => _severed;
        set
        {
            _severed = value;
            if (value)
            {
                AbortAll();
            }
        }
    }

    private ProxyMode Effective => _severed ? ProxyMode.Reset : _mode;

    /// <summary>Flaps the link at random (seeded) for <paramref name="total"/>: up, then a fault, then up, ….</summary>
    public async Task FlapAsync(TimeSpan total, CancellationToken cancellationToken)
    {
        var modes = new[] { ProxyMode.Cut, ProxyMode.Reset, ProxyMode.Blackhole, ProxyMode.DropMidStream };
        var start = _clock.GetTimestamp();
        while (_clock.GetElapsedTime(start) < total && !cancellationToken.IsCancellationRequested)
        {
            Mode = ProxyMode.Pass;
            await Task.Delay(TimeSpan.FromMilliseconds(Next(100, 600)), _clock, cancellationToken);
            Mode = modes[Next(0, modes.Length)];
            await Task.Delay(TimeSpan.FromMilliseconds(Next(50, 400)), _clock, cancellationToken);
        }

        Mode = ProxyMode.Pass;
    }

    /// <summary>Stops listening and resets every open connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        AbortAll();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        switch (Effective)
        {
            case ProxyMode.Cut:
                client.Dispose();
                return;
            case ProxyMode.Reset:
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                return;
            case ProxyMode.Blackhole:
                Track(client, null);
                try
                {
                    var sink = new byte[4096];
                    while (await client.GetStream().ReadAsync(sink, _stop.Token) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
                {
                }

                Untrack(client, null);
                client.Dispose();
                return;
        }

        var server = new TcpClient();
        Track(client, server);
        try
        {
            using var timeout = new CancellationTokenSource(ConnectTimeout, _clock);
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, timeout.Token);
            await server.ConnectAsync(_upstream, connecting.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Untrack(client, server);
            Abort(client, server);
            return;
        }

        var dropAfter = Effective == ProxyMode.DropMidStream ? Next(1, 6000) : long.MaxValue;
        var budget = new StrongBox(dropAfter);
        await Task.WhenAny(PumpAsync(client, server, up: true, budget), PumpAsync(server, client, up: false, budget));
        Untrack(client, server);
        Abort(client, server);
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool up, StrongBox budget)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            while (true)
            {
                var read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0 || Effective is ProxyMode.Cut or ProxyMode.Reset or ProxyMode.Blackhole)
                {
                    return;
                }

                if (Interlocked.Add(ref budget.Value, -read) < 0)
                {
                    return; // drop in mid-stream
                }

                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, _stop.Token);
                }

                if (BytesPerSecond > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)read / BytesPerSecond), _stop.Token);
                }

                await target.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                Interlocked.Add(ref up ? ref _bytesUp : ref _bytesDown, read);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
    }

    private void Track(TcpClient client, TcpClient? server)
    {
        lock (_gate)
        {
            _connections.Add((client, server));
        }
    }

    private int Next(int min, int max)
    {
        lock (_gate)
        {
            return _random.Next(min, max);
        }
    }

    private void Untrack(TcpClient client, TcpClient? server)
    {
        lock (_gate)
        {
            _connections.Remove((client, server));
        }
    }

    private void AbortAll()
    {
        List<(TcpClient, TcpClient?)> all;
        lock (_gate)
        {
            all = [.. _connections];
            _connections.Clear();
        }

        foreach (var (client, server) in all)
        {
            Abort(client, server);
        }
    }

    private static void Abort(TcpClient client, TcpClient? server)
    {
        foreach (var socket in new[] { client, server })
        {
            if (socket is null)
            {
                continue;
            }

            try
            {
                // Linger 0: the close is a reset, as when a link dies, not a polite FIN.
                if (socket.Client is { } raw)
                {
                    raw.LingerState = new LingerOption(true, 0);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            socket.Dispose();
        }
    }

    private sealed class StrongBox(long value)
    {
        public long Value = value;
    }
}
