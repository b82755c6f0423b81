using System.Net;
using System.Net.Sockets;

namespace Outpost.Deploy.Tests;

/// <summary>
/// A store's link to HQ that the test can cut: a TCP relay on a loopback port of its own to HQ's port. Cut closes the
/// listener and every connection through it (the store sees its link fail, as when a WAN line drops); Restore listens
/// on the same port again.
/// </summary>
public sealed class LinkProxy : IAsyncDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource _cut = new();
    private Task _accepting = Task.CompletedTask;

    private LinkProxy(int port, int target)
    {
        Port = port;
        _target = target;
    }

    /// <summary>The port the store is given as HQ's.</summary>
    public int Port { get; }

    public static LinkProxy Start(int target)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var proxy = new LinkProxy(port, target);
        proxy.Restore();
        return proxy;
    }

    /// <summary>Drops the link: no new connection is taken, and those open are closed.</summary>
    public async Task CutAsync()
    {
        await _cut.CancelAsync();
        _listener?.Stop();
        lock (_open)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }

            _open.Clear();
        }

        await _accepting;
    }

    /// <summary>Brings the link back.</summary>
    public void Restore()
    {
        _cut = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _accepting = AcceptAsync(_listener, _cut.Token);
    }

    public async ValueTask DisposeAsync() => await CutAsync();

    private async Task AcceptAsync(TcpListener listener, CancellationToken cut)
    {
        try
        {
            while (!cut.IsCancellationRequested)
            {
                var inbound = await listener.AcceptTcpClientAsync(cut);
                var outbound = new TcpClient();
                try
                {
                    await outbound.ConnectAsync(IPAddress.Loopback, _target, cut);
                }
                catch (SocketException)
                {
                    inbound.Dispose();
                    outbound.Dispose();
                    continue;
                }

                lock (_open)
                {
                    _open.Add(inbound);
                    _open.Add(outbound);
                }

                _ = RelayAsync(inbound, outbound, cut);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task RelayAsync(TcpClient a, TcpClient b, CancellationToken cut)
    {
        try
        {
            await Task.WhenAny(a.GetStream().CopyToAsync(b.GetStream(), cut), b.GetStream().CopyToAsync(a.GetStream(), cut));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
