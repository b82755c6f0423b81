using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Authentication;
using Outpost.Core.Diagnostics;
using Outpost.Core.Events;
using Outpost.Sync.Protocol;
using Outpost.Sync.Security;

namespace Outpost.Sync.Agent;

/// <summary>The store's HTTP calls to HQ. Always store-initiated: outbound HTTP only, through NAT and proxies.</summary>
public sealed class SyncClient : IDisposable
{
    /// <summary>The most a down answer or frame may expand to, and the most one event of it may hold.</summary>
    private const int MaxDownBatchBytes = 64 * 1024 * 1024;

    private const int MaxDownEventBytes = 16 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly SyncClientOptions _options;

    private readonly ConnectivityMonitor? _monitor;
    private readonly HqTrust? _trust;
    private readonly PemCertificate? _certificate;

    /// <summary>The store software's version, sent with every request.</summary>
    public static string SoftwareVersion { get; } =
        typeof(SyncClient).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false) is [System.Reflection.AssemblyInformationalVersionAttribute info, ..]
            ? info.InformationalVersion.Split('+')[0]
            : "0.0.0";

    /// <summary>Creates a client with its own connection pool; with a <paramref name="monitor"/>, every request reports the store's backlog, lag and last error to HQ.</summary>
    /// <param name="options">Where HQ is and how to talk to it.</param>
    /// <param name="monitor">Where to report the link's state (the store's back office and its reports to HQ).</param>
    /// <param name="observer">A handler put in front of the connection (a benchmark counting bytes on the wire), or null.</param>
    /// <param name="time">The clock certificates are checked against.</param>
    /// <param name="connections">
    /// A connection pool this client borrows instead of owning one (plain HTTP only; the caller keeps it and disposes
    /// it): many simulated stores of one process share their connections to HQ, as a store's credential is a header of
    /// each request, not a property of its connection.
    /// </param>
    /// <exception cref="TlsSetupException">A CA bundle, pin or client certificate that cannot be used.</exception>
    public SyncClient(SyncClientOptions options, ConnectivityMonitor? monitor = null, DelegatingHandler? observer = null, TimeProvider? time = null,
        HttpMessageHandler? connections = null)
    {
        _monitor = monitor;
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        if (connections is not null)
        {
            if (options.Central?.Scheme == Uri.UriSchemeHttps || options.CaBundle is not null || options.PinnedKeys.Count > 0 || options.ClientCertificate is not null)
            {
                throw new ArgumentException("A borrowed connection pool carries no TLS settings of the store's: use it over plain HTTP only.", nameof(connections));
            }

            HttpMessageHandler borrowed = new Borrowed(connections);
            if (observer is not null)
            {
                observer.InnerHandler = borrowed;
                borrowed = observer;
            }

            _http = Client(borrowed, options);
            return;
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = options.IdleConnectionTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = options.MaxInFlight + 2,
        };
        if (options.Central?.Scheme == Uri.UriSchemeHttps)
        {
            _trust = new HqTrust(new CertificateCheck(options.CaBundle, time), options.PinnedKeys, options.Central.IdnHost);
            handler.SslOptions.RemoteCertificateValidationCallback = _trust.Validate;
            if (options.ClientCertificate is { } certificate)
            {
                _certificate = new PemCertificate(certificate, options.ClientKey ?? certificate, time);
                handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => _certificate.Certificate;
            }
        }
        else if (options.CaBundle is not null || options.PinnedKeys.Count > 0 || options.ClientCertificate is not null)
        {
            throw new TlsSetupException($"HQ's address {options.Central} is not https: a CA bundle, pinned keys or a client certificate apply only to HTTPS.");
        }
        if (observer is not null)
        {
            observer.InnerHandler = handler;
        }

        _http = Client(observer ?? (HttpMessageHandler)handler, options);
    }

    private static HttpClient Client(HttpMessageHandler handler, SyncClientOptions options)
    {
        var http = new HttpClient(handler) { BaseAddress = options.Central, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{options.StoreId}:{options.Secret}");
        http.DefaultRequestHeaders.Add(SyncWire.VersionHeader, SoftwareVersion);
        return http;
    }

    /// <summary>
    /// The store's own figures, as headers of a request to HQ. The backlog goes only with up requests (batches and
    /// heartbeats), whose order it follows: a down stream connected during a catch-up would carry a figure older than
    /// the batches HQ acknowledges after it. <paramref name="backlog"/> overrides the monitor's.
    /// </summary>
    private void Report(HttpRequestMessage request, bool up, long? backlog = null)
    {
        if (_monitor?.Current is not { } status)
        {
            return;
        }

        if (up)
        {
            request.Headers.Add(SyncWire.BacklogHeader, (backlog ?? status.UpBacklog).ToString(CultureInfo.InvariantCulture));
        }

        request.Headers.Add(SyncWire.LagHeader, status.DownLag.ToString(CultureInfo.InvariantCulture));
        if ((LocalProblem?.Invoke() ?? status.NotSentProblem ?? (status.State != ConnectivityState.Online ? status.LastError : null)) is { } error)
        {
            // Header values are ASCII on one line.
            var clean = new string([.. error.Take(200).Select(c => c is >= ' ' and < (char)127 ? c : ' ')]);
            request.Headers.TryAddWithoutValidation(SyncWire.ErrorHeader, clean);
        }
    }

    /// <summary>
    /// A problem of the store itself to tell HQ with every request (its disk full), before the damaged records the up link
    /// stepped over and any link error; null when there is none.
    /// </summary>
    public Func<string?>? LocalProblem { get; init; }

    /// <summary>Bytes of up request bodies sent, for the wire-size figure.</summary>
    public long UpBytesSent => Interlocked.Read(ref _upBytes);

    private long _upBytes;

    /// <summary>
    /// Sends a batch of the store's events; returns HQ's acknowledgement once they are durable there.
    /// <paramref name="backlogAfter"/>: the events still waiting once this batch and those before it are in, which HQ's
    /// fleet view shows (the monitor's figure when not given).
    /// </summary>
    public async Task<UpAck> SendUpAsync(IReadOnlyList<StoredEvent> events, IReadOnlyList<long>? previous, CancellationToken cancellationToken, long? backlogAfter = null)
    {
        // The batch's span (its HTTP request a child, so HQ's request span follows it), and one in each traced event's
        // own trace, so a sale's trace shows the batch that took it up, whenever that was.
        using var span = events.Count == 0 ? null : OutpostTracing.Source.StartActivity("outpost.up batch", ActivityKind.Producer);
        span?.SetTag("outpost.events", events.Count);
        using var eventSpans = EventSpans.Start("outpost.up", ActivityKind.Producer, events, (s, i) => s.SetTag("outpost.origin_seq", events[i].Origin.Seq));
        try
        {
            var ack = await SendBatchAsync(events, previous, backlogAfter, cancellationToken);
            span?.SetTag("outpost.accepted", ack.Accepted);
            span?.SetTag("outpost.duplicates", ack.Duplicates);
            return ack;
        }
        catch (Exception ex)
        {
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            eventSpans.Fail(ex);
            throw;
        }
    }

    private async Task<UpAck> SendBatchAsync(IReadOnlyList<StoredEvent> events, IReadOnlyList<long>? previous, long? backlogAfter, CancellationToken cancellationToken)
    {
        // Both buffers are rented and returned: a backlog sends hundreds of these a second.
        using var body = new PooledBuffer();
        using (var batch = new PooledBuffer(64 * 1024 + (events.Count * 256)))
        {
            EventBatchCodec.Encode(events, previous, batch, withTrace: true);
            WireCompression.Compress(batch.WrittenSpan, _options.Compression, body);
        }

        Interlocked.Add(ref _upBytes, body.WrittenCount);
        using var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.ContentType = new MediaTypeHeaderValue(EventBatchCodec.MediaType);
        if (_options.Compression != "identity")
        {
            content.Headers.ContentEncoding.Add(_options.Compression);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        using var up = new HttpRequestMessage(HttpMethod.Post, SyncWire.UpPath.TrimStart('/')) { Content = content };
        Report(up, up: true, backlogAfter);
        using var response = await SendAsync(up, timeout.Token);
        await ThrowIfRefusedAsync(response, timeout.Token);
        return await response.Content.ReadFromJsonAsync(SyncJsonContext.Default.UpAck, timeout.Token)
            ?? throw new HttpRequestException("HQ acknowledged with an empty body.");
    }

    /// <summary>Asks for the events after <paramref name="after"/>; HQ holds the request up to <paramref name="wait"/> when it has none.</summary>
    public async Task<DownPage> GetDownAsync(long after, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"{SyncWire.DownPath.TrimStart('/')}?after={after}&max={_options.MaxDownEvents}&wait={(long)wait.TotalMilliseconds}"));
        request.Headers.AcceptEncoding.ParseAdd("zstd, br, gzip");
        Report(request, up: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait + _options.RequestTimeout);
        using var response = await SendAsync(request, timeout.Token);
        await ThrowIfRefusedAsync(response, timeout.Token);
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        var events = EventBatchCodec.DecodeCompressed(body, response.Content.Headers.ContentEncoding.FirstOrDefault(), MaxDownBatchBytes, int.MaxValue, MaxDownEventBytes, out _);
        return new DownPage(events, Header(response, SyncWire.NextHeader), Header(response, SyncWire.HeadHeader));
    }

    /// <summary>
    /// Follows HQ's down feed on one long request (<see cref="SyncWire.DownStreamPath"/>): a page for each frame HQ
    /// writes, the first at once, then one for new events or, after <paramref name="keepAlive"/> with none, an empty
    /// one that shows the link is alive. Ends when HQ ends the stream (connect again); throws
    /// <see cref="OperationCanceledException"/> when HQ stays silent past <paramref name="keepAlive"/> and the
    /// request timeout (a dead link), and <see cref="DownStreamUnsupportedException"/> when HQ predates streaming.
    /// </summary>
    public async IAsyncEnumerable<DownPage> StreamDownAsync(long after, TimeSpan keepAlive, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture,
            $"{SyncWire.DownStreamPath.TrimStart('/')}?after={after}&max={_options.MaxDownEvents}&keepalive={(long)keepAlive.TotalMilliseconds}"));
        request.Headers.AcceptEncoding.ParseAdd("zstd");
        Report(request, up: false);
        HttpResponseMessage response;
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connecting.CancelAfter(_options.RequestTimeout);
            response = await SendAsync(request, connecting.Token, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                throw new DownStreamUnsupportedException();
            }

            try
            {
                await ThrowIfRefusedAsync(response, connecting.Token);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        using (response)
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var first = true;
            while (true)
            {
                (IReadOnlyList<NewEvent> Events, long Next, long Head)? frame;
                using (var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    // HQ writes the first frame at once: when it does not come, something between holds the response back.
                    silence.CancelAfter(first ? _options.RequestTimeout : keepAlive + _options.RequestTimeout);
                    try
                    {
                        frame = await DownStreamFrame.ReadAsync(body, MaxDownBatchBytes, MaxDownEventBytes, silence.Token);
                    }
                    catch (OperationCanceledException) when (first && !cancellationToken.IsCancellationRequested)
                    {
                        throw new DownStreamUnsupportedException(
                            $"HQ answered the streamed down feed but its first frame did not arrive within {_options.RequestTimeout.TotalSeconds:N0} s (a proxy holding the response back?); long-polling instead.");
                    }
                }

                first = false;

                if (frame is not { } page)
                {
                    yield break;
                }

                yield return new DownPage(page.Events, page.Next, page.Head);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>A pool used, not owned: disposing the client leaves it to its owner.</summary>
    private sealed class Borrowed(HttpMessageHandler pool) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _pool = new(pool, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => _pool.SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _pool.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Sends; a TLS handshake refused on this side says why in words.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex) when (ex.InnerException is AuthenticationException && _trust?.LastFailure is { } why)
        {
            throw new HttpRequestException(why, ex);
        }
    }

    private static long Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new HttpRequestException($"HQ's answer lacks the {name} header.");

    private static async Task ThrowIfRefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        var status = (int)response.StatusCode;
        // 409: a batch overtook one that failed; sending again from the acknowledged position fixes it.
        if (status is >= 400 and < 500 and not 408 and not 409 and not 429)
        {
            throw new SyncRefusedException(status, $"HQ refused the request ({status}): {detail}");
        }

        if (HqBusyException.RetryAfterOf(response) is { } after)
        {
            throw new HqBusyException(response.StatusCode, after, $"HQ answered {status}, try again in {after.TotalSeconds:F0} s: {detail}");
        }

        throw new HttpRequestException($"HQ answered {status}: {detail}", null, response.StatusCode);
    }
}

/// <summary>
/// HQ asked the store to wait (429 or 503 with <c>Retry-After</c>: a node busy with the fleet reconnecting, its
/// database restarting): the link's next try waits that long at least, and up to twice that, so that stores told
/// the same thing at the same moment do not all come back together.
/// </summary>
public sealed class HqBusyException(System.Net.HttpStatusCode status, TimeSpan retryAfter, string message) : HttpRequestException(message, null, status)
{
    /// <summary>The longest wait a <c>Retry-After</c> from HQ is honoured for.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>What HQ's <c>Retry-After</c> asked for.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>How long a 429 or 503 asks to wait (<c>Retry-After</c> as seconds or a date), or null: not such an answer.</summary>
    public static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return (int)response.StatusCode is 429 or 503 && response.Headers.RetryAfter is { } retry
            && (retry.Delta ?? (retry.Date is { } date ? date - DateTimeOffset.UtcNow : null)) is { } after && after > TimeSpan.Zero
            ? after
            : null;
    }

    /// <summary>The wait before trying again: what was asked (a minute at most), up to twice that, spread.</summary>
    public static TimeSpan Spread(TimeSpan retryAfter, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return TimeSpan.FromMilliseconds(Math.Min(retryAfter.TotalMilliseconds, MaxRetryAfter.TotalMilliseconds) * (1 + random.NextDouble()));
    }
}

/// <summary>One down answer: the events, where the cursor moves to, and HQ's head.</summary>
/// <param name="Events">Events to append, with their origins.</param>
/// <param name="Next">The cursor after them.</param>
/// <param name="Head">HQ's log head.</param>
public sealed record DownPage(IReadOnlyList<NewEvent> Events, long Next, long Head);
