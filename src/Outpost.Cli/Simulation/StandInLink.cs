namespace Outpost.Cli.Simulation;

/// <summary>
/// A stand-in store's way to HQ, under its SyncClient: the load balancer's part (its home node until a connection to
/// it fails, then the next one, and so on: a node lost for good is left for good) and its link's faults from the seeded schedule, applied per
/// request (a real store's proxy applies them per connection, which costs a listening socket and two more per
/// connection: too many at 20,000 stores). Outage and a store offline all span: refused; flapping: every other
/// request refused, at random; blackhole: never answered (the agent's request timeout ends it); drop mid-stream:
/// every other answer lost after HQ acted on the request (HQ stored the batch, the store sends it again); slow: 200 ms
/// a request.
/// </summary>
internal sealed class StandInLink(IReadOnlyList<Uri> nodes, int home, IReadOnlyList<Fault> faults, Func<TimeSpan?> simulatedNow) : DelegatingHandler
{
    private int _current = home;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var now = simulatedNow();
        var fault = now is { } at ? faults.FirstOrDefault(f => f.Start <= at && at < f.End) : null;
        switch (fault?.Kind)
        {
            case FaultKind.Outage or FaultKind.OfflineAllSpan:
                throw new HttpRequestException("simulated outage: the store's link refuses connections");
            case FaultKind.Flapping when Random.Shared.Next(2) == 0:
                throw new HttpRequestException("simulated flapping link: the connection was refused");
            case FaultKind.Blackhole:
                await Task.Delay(Timeout.Infinite, cancellationToken);
                break;
            case FaultKind.SlowLink:
                await Task.Delay(200, cancellationToken);
                break;
        }

        var node = Volatile.Read(ref _current);
        request.RequestUri = new Uri(nodes[node], request.RequestUri!.PathAndQuery);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException) when (!cancellationToken.IsCancellationRequested && nodes.Count > 1)
        {
            // The node does not answer: the balancer sends the next request to another.
            Interlocked.CompareExchange(ref _current, (node + 1) % nodes.Count, node);
            throw;
        }

        if (fault?.Kind == FaultKind.DropMidStream && Random.Shared.Next(2) == 0)
        {
            response.Dispose();
            throw new HttpRequestException("simulated drop mid-stream: the connection was cut before the answer arrived");
        }

        return response;
    }
}
