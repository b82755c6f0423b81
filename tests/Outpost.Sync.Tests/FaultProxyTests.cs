using System.Net;
using System.Net.Sockets;
using Outpost.Sync.Faults;

namespace Outpost.Sync.Tests;

public sealed class FaultProxyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_connected_through_the_link_to_an_hq_that_never_accepts_is_let_go_after_the_connect_timeout()
    {
        // An HQ node whose queue of connections is full: a listener with a queue of one that never accepts, filled
        // until a connection to it no longer completes (the kernel then drops the SYNs and the connecting side waits).
        using var hq = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        hq.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        hq.Listen(1);
        var port = ((IPEndPoint)hq.LocalEndPoint!).Port;
        var queued = new List<Socket>();
        try
        {
            var full = false;
            for (var i = 0; i < 8 && !full; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                queued.Add(socket);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                wait.CancelAfter(TimeSpan.FromSeconds(1));
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, port, wait.Token);
                }
                catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                {
                    full = true;
                }
            }

            Assert.True(full, "the listener's queue never filled: this kernel accepts more than its backlog, so the test cannot make an HQ that never answers");

            await using var link = new FaultProxy(new Uri($"http://127.0.0.1:{port}/")) { ConnectTimeout = TimeSpan.FromSeconds(1) };
            using var store = new TcpClient();
            await store.ConnectAsync(IPAddress.Loopback, link.Address.Port, Ct);
            await store.GetStream().WriteAsync("POST /sync/v1/up HTTP/1.1\r\nHost: hq\r\n\r\n"u8.ToArray(), Ct);

            // The store's side is closed (a reset, as when a link dies) once the proxy gives up on HQ, not two minutes
            // of SYN retries later; and the proxy holds nothing of it.
            var closed = Task.Run(async () =>
            {
                try
                {
                    return await store.GetStream().ReadAsync(new byte[1], Ct);
                }
                catch (IOException)
                {
                    return -1;
                }
            }, Ct);
            Assert.Same(closed, await Task.WhenAny(closed, Task.Delay(TimeSpan.FromSeconds(30), Ct)));
            Assert.True(await closed <= 0, "the proxy answered for an HQ that never accepted");
            Assert.Equal(0, link.OpenConnections);
        }
        finally
        {
            foreach (var socket in queued)
            {
                socket.Dispose();
            }
        }
    }
}
