using System.Globalization;
using System.Net.Http.Headers;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Sync.Protocol;

namespace Outpost.Cli.Bench;

/// <summary>
/// Stores posting sales up to HQ as the store's agent ships them: zstd-compressed batches, a few in flight per store,
/// HQ acknowledging each once it is durable. The bodies are encoded before anything is timed: encoding is the
/// stores' work, not HQ's, and here the stores share HQ's cores.
/// </summary>
internal sealed class UpSenders
{
    /// <summary>A sale's payload as a till records it (about 200 bytes of JSON).</summary>
    public static readonly byte[] Payload = System.Text.Encoding.UTF8.GetBytes(
        """{"basket":"b0000042","till":"till-03","lines":[{"gtin":"5012345678900","qty":2,"price":"1.25"},{"gtin":"5098765432109","qty":1,"price":"3.49"}],"total":"5.99","currency":"EUR","tender":"card"}""");

    private readonly List<(IssuedCredential Store, List<byte[]> Bodies)> _stores;

    private UpSenders(List<(IssuedCredential Store, List<byte[]> Bodies)> stores) => _stores = stores;

    /// <summary>Every request's body for the stores' origin seqs <paramref name="firstSeq"/> onwards, <paramref name="perStore"/> each, <paramref name="batch"/> a request.</summary>
    public static UpSenders Encode(IReadOnlyList<IssuedCredential> stores, long perStore, int batch, long firstSeq) =>
        new([.. stores.Select(credential =>
        {
            var node = NodeId.Parse(credential.StoreId);
            var bodies = new List<byte[]>();
            var lastSeq = firstSeq + perStore - 1;
            for (var from = firstSeq; from <= lastSeq; from += batch)
            {
                var events = new List<StoredEvent>(batch);
                for (var seq = from; seq < from + batch && seq <= lastSeq; seq++)
                {
                    events.Add(new StoredEvent
                    {
                        Seq = seq,
                        Topic = "sales",
                        Type = "SimulatedSale",
                        Version = 1,
                        Key = "b" + seq.ToString(CultureInfo.InvariantCulture),
                        Scope = Scope.Store(credential.StoreId),
                        Origin = new EventOrigin(node, seq, HlcTimestamp.From(1_790_000_000_000 + seq, 0)),
                        Payload = Payload,
                    });
                }

                bodies.Add(WireCompression.Compress(EventBatchCodec.Encode(events), "zstd"));
            }

            return (credential, bodies);
        })]);

    /// <summary>The requests, over all stores.</summary>
    public long Requests => _stores.Sum(s => (long)s.Bodies.Count);

    /// <summary>Sends every store's bodies in order, <paramref name="inFlight"/> at most at once per store, all stores at once.</summary>
    public Task SendAsync(Uri hq, int inFlight, CancellationToken cancellationToken) =>
        Task.WhenAll(_stores.Select(store => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = hq, Timeout = TimeSpan.FromMinutes(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{store.Store.StoreId}:{store.Store.Secret}");
            using var window = new SemaphoreSlim(inFlight);
            var sends = new List<Task>();
            foreach (var body in store.Bodies)
            {
                await window.WaitAsync(cancellationToken);
                sends.Add(PostAsync(http, body, window, cancellationToken));
            }

            await Task.WhenAll(sends);
        }, cancellationToken)));

    private long _busy;

    /// <summary>Answers that asked a sender to wait (HQ busy, 503; a store over its share, 429), each sent again after the wait.</summary>
    public long Busy => Interlocked.Read(ref _busy);

    private async Task PostAsync(HttpClient http, byte[] body, SemaphoreSlim window, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(EventBatchCodec.MediaType);
            content.Headers.ContentEncoding.Add("zstd");
            // HQ busy (503) or the store over its share (429): wait as asked, as the agent does, and send the same again.
            for (var attempt = 1; ; attempt++)
            {
                using var response = await http.PostAsync(SyncWire.UpPath.TrimStart('/'), content, cancellationToken);
                if (attempt == 30 || Outpost.Sync.Agent.HqBusyException.RetryAfterOf(response) is not { } after)
                {
                    response.EnsureSuccessStatusCode();
                    break;
                }

                Interlocked.Increment(ref _busy);
                await Task.Delay(Outpost.Sync.Agent.HqBusyException.Spread(after, Random.Shared), cancellationToken);
            }
        }
        finally
        {
            window.Release();
        }
    }
}
