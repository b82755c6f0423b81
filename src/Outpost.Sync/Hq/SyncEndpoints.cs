using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Outpost.Core.Diagnostics;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Sync.Protocol;
using Outpost.Sync.Security;

namespace Outpost.Sync.Hq;

/// <summary>
/// HQ's side of the sync protocol, as endpoints any ASP.NET Core host maps: <c>POST /sync/v1/up</c> stores a
/// store's batch idempotently and answers once it is durable; <c>GET /sync/v1/down</c> serves the events
/// after a cursor in the scopes the store is entitled to, holding the request until there are some;
/// <c>GET /sync/v1/down/stream</c> serves the same as a stream of frames on one request (<see cref="DownStream"/>).
/// </summary>
public static class SyncEndpoints
{
    /// <summary>Maps the sync endpoints. Needs <see cref="IEventLog"/>, <see cref="IStoreDirectory"/> and <see cref="SyncAdmission"/> in services.</summary>
    /// <remarks>The host registers a <see cref="DownFeed"/> over its log (one per node).</remarks>
    public static IEndpointRouteBuilder MapSyncEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(SyncWire.UpPath, UpAsync).RequireRateLimiting(SyncRateLimits.PerStorePolicy);
        app.MapGet(SyncWire.DownPath, DownAsync).RequireRateLimiting(SyncRateLimits.PerStorePolicy);
        app.MapGet(SyncWire.DownStreamPath, DownStream.StreamAsync).RequireRateLimiting(SyncRateLimits.PerStorePolicy);
        return app;
    }

    private static async Task<IResult> UpAsync(HttpContext context, IEventLog log, IStoreDirectory directory, IOptions<SyncServerOptions> options,
        SyncAdmission admission, TimeProvider time, CancellationToken cancellationToken)
    {
        using var permit = await admission.EnterAsync(cancellationToken);
        if (permit is null)
        {
            return admission.Busy(context);
        }

        var limits = options.Value;
        var (store, refusal, _) = await AuthenticateAsync(context, directory, cancellationToken);
        if (store is null)
        {
            return refusal!;
        }

        ReportOf(context, store);

        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType) || mediaType.MediaType != EventBatchCodec.MediaType)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"Send the batch as '{EventBatchCodec.MediaType}'.");
        }

        var coding = context.Request.Headers.ContentEncoding.ToString();
        if (!WireCompression.IsSupported(string.IsNullOrEmpty(coding) ? null : coding))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding", $"Content-Encoding '{coding}' is not supported; use one of: {string.Join(", ", WireCompression.Supported)}.");
        }

        List<NewEvent> events;
        long[] previous;
        try
        {
            using var body = await ReadBodyAsync(context, limits.MaxRequestBytes, cancellationToken);
            events = EventBatchCodec.DecodeCompressed(body.WrittenSpan, coding, limits.MaxBatchBytes, limits.MaxEventsPerBatch, limits.MaxEventBytes, out previous);
        }
        catch (BatchTooLargeException ex)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Batch too large", ex.Message + " Nothing was applied; send smaller batches.");
        }
        catch (BatchFormatException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed batch", ex.Message);
        }

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Origin!.Value.Node.Value != store.StoreId)
            {
                return Problem(StatusCodes.Status403Forbidden, "Foreign origin",
                    $"Event {i} of the batch has origin '{e.Origin.Value.Node}', but this credential is store '{store.StoreId}''s: a store sends only its own events. Nothing was applied.");
            }

            if (log.Topics[e.Topic].Direction == TopicDirection.Down)
            {
                return Problem(StatusCodes.Status403Forbidden, "Topic written by HQ only",
                    $"Event {i} of the batch is on topic '{e.Topic}', which only HQ writes. Nothing was applied.");
            }
        }

        var origin = NodeId.Parse(store.StoreId);
        if (await MissingPredecessorAsync(log, origin, events, previous, limits.PredecessorWait, time, cancellationToken) is { } missing)
        {
            return Problem(StatusCodes.Status409Conflict, "Predecessor missing",
                $"The batch continues after event {missing} of store '{store.StoreId}', which HQ does not hold: an earlier batch failed. Send from the acknowledged position again.");
        }

        IReadOnlyList<AppendResult> results;
        // A span in each traced event's own trace (the sale's, started at the till), linked to this request's.
        using (var ingest = EventSpans.Start("outpost.ingest", ActivityKind.Consumer, events, (span, i) =>
        {
            span.SetTag("outpost.store", store.StoreId);
            span.SetTag("outpost.origin_seq", events[i].Origin!.Value.Seq);
        }))
        {
            try
            {
                results = await log.AppendBatchAsync(events, cancellationToken: cancellationToken);
            }
            catch (InvalidEventException ex)
            {
                ingest.Fail(ex);
                return Problem(StatusCodes.Status400BadRequest, "Invalid event", ex.Message);
            }

            ingest.Tag((span, i) =>
            {
                span.SetTag("outpost.seq", results[i].Seq);
                span.SetTag("outpost.duplicate", results[i].Duplicate);
            });
        }

        var duplicates = results.Count(r => r.Duplicate);
        // As of the commit that stored this batch, known to the log without a read (a round trip a request otherwise).
        var contiguous = log.KnownContiguousOriginSeq(origin) ?? await log.GetContiguousOriginSeqAsync(origin, cancellationToken);
        var highest = events.Count == 0 ? 0 : events.Max(e => e.Origin!.Value.Seq);
        context.RequestServices.GetService<ISyncObserver>()?.UpStored(store, events.Count - duplicates, contiguous);
        return TypedResults.Json(new UpAck(events.Count - duplicates, duplicates, highest, contiguous), SyncJsonContext.Default.UpAck);
    }

    private static async Task<IResult> DownAsync(HttpContext context, IEventLog log, DownFeed feed, IStoreDirectory directory, IOptions<SyncServerOptions> options,
        SyncAdmission admission, IHostApplicationLifetime lifetime, TimeProvider time, CancellationToken cancellationToken)
    {
        // The permit covers the credential and the first page, never the wait for events.
        var permit = await admission.EnterAsync(cancellationToken);
        if (permit is null)
        {
            return admission.Busy(context);
        }

        using var first = permit;
        var (store, refusal, changed) = await AuthenticateAsync(context, directory, cancellationToken);
        if (store is null)
        {
            return refusal!;
        }

        ReportOf(context, store);

        var query = context.Request.Query;
        if (query.TryGetValue("store", out var asked) && asked.ToString() != store.StoreId)
        {
            return Problem(StatusCodes.Status403Forbidden, "Another store's feed",
                $"This credential is store '{store.StoreId}''s; it cannot read store '{asked}''s feed.");
        }

        if (!TryLong(query, "after", 0, 0, long.MaxValue, out var after) || !TryLong(query, "max", 1000, 1, 10_000, out var max)
            || !TryLong(query, "wait", 0, 0, (long)options.Value.MaxLongPoll.TotalMilliseconds, out var waitMs))
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad query",
                $"Use after=<HQ log position, 0 or more>, max=<1-10000 events>, wait=<0-{(long)options.Value.MaxLongPoll.TotalMilliseconds} ms>.");
        }

        var scopes = store.Scopes;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(waitMs), time);
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping, timeout.Token, changed);
        var page = await feed.ReadAsync(after, scopes, (int)max, cancellationToken);
        permit.Dispose();
        while (page.Events.Count == 0 && !hold.IsCancellationRequested)
        {
            try
            {
                await feed.WaitForDownAsync(page.ScannedTo, scopes, hold.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            page = await feed.ReadAsync(page.ScannedTo, scopes, (int)max, cancellationToken);
            SyncMetrics.Record(SyncMetrics.Read, started);
        }

        // The credential changed while the poll was held (rotated or revoked, on any node): checked again, it may no
        // longer be served.
        if (changed.IsCancellationRequested && (await AuthenticateAsync(context, directory, cancellationToken)).Refusal is { } revoked)
        {
            return revoked;
        }

        var responding = System.Diagnostics.Stopwatch.GetTimestamp();
        var coding = WireCompression.Choose(context.Request.Headers.AcceptEncoding);
        using var batch = new PooledBuffer();
        EventBatchCodec.Encode(page.Events, null, batch);
        var body = WireCompression.Compress(batch.WrittenSpan, coding);
        context.Response.Headers[SyncWire.NextHeader] = page.ScannedTo.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[SyncWire.HeadHeader] = log.Head.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (coding != "identity")
        {
            context.Response.Headers.ContentEncoding = coding;
        }

        context.RequestServices.GetService<ISyncObserver>()?.DownServed(store, page.ScannedTo, log.Head);
        context.Response.ContentType = EventBatchCodec.MediaType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, cancellationToken);
        SyncMetrics.Record(SyncMetrics.Respond, responding);
        return Results.Empty;
    }

    /// <summary>
    /// Keeps a store's events in its order at HQ while several batches are in flight: an event whose lane
    /// predecessor is neither in the batch nor stored means an earlier batch has not arrived. A batch that
    /// merely overtook its predecessor waits for it a moment; one whose predecessor failed is refused (409).
    /// </summary>
    private static async Task<long?> MissingPredecessorAsync(IEventLog log, NodeId origin, List<NewEvent> events, long[] previous, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        var inBatch = events.Select(e => e.Origin!.Value.Seq).ToHashSet();
        var needed = previous.Where(p => p > 0 && !inBatch.Contains(p)).Distinct().ToList();
        if (needed.Count == 0)
        {
            return null;
        }

        using var deadline = new CancellationTokenSource(wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        while (true)
        {
            var head = log.Head;
            var missing = await FirstMissingAsync(log, origin, needed, cancellationToken);
            if (missing is null || deadline.IsCancellationRequested)
            {
                return missing;
            }

            try
            {
                await log.WaitForAppendAsync(head, linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private static async Task<long?> FirstMissingAsync(IEventLog log, NodeId origin, List<long> needed, CancellationToken cancellationToken)
    {
        // A known position may lag another node's commits: a seq above it is looked up, never assumed missing.
        var contiguous = log.KnownContiguousOriginSeq(origin) ?? await log.GetContiguousOriginSeqAsync(origin, cancellationToken);
        foreach (var seq in needed)
        {
            if (seq > contiguous && !await log.HoldsOriginAsync(origin, seq, cancellationToken))
            {
                return seq;
            }
        }

        return null;
    }

    /// <summary>Passes what the store says about itself (version, backlog, lag, error) to the fleet view; unreadable figures are ignored.</summary>
    internal static void ReportOf(HttpContext context, StoreIdentity store)
    {
        if (context.RequestServices.GetService<ISyncObserver>() is not { } observer)
        {
            return;
        }

        var headers = context.Request.Headers;
        static long? Number(string? text) => long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
        static string? Text(string? text, int max) => string.IsNullOrWhiteSpace(text) ? null : text.Length > max ? text[..max] : text;
        observer.Reported(store, new StoreReport(Text(headers[SyncWire.VersionHeader], 50), Number(headers[SyncWire.BacklogHeader]), Number(headers[SyncWire.LagHeader]),
            Text(headers[SyncWire.ErrorHeader], 200)));
    }

    /// <summary>Checks the request's store credential (and client certificate); timed as the <see cref="SyncMetrics.Authenticate"/> stage.</summary>
    internal static async Task<(StoreIdentity? Store, IResult? Refusal, CancellationToken Changed)> AuthenticateAsync(HttpContext context, IStoreDirectory directory, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await CheckCredentialAsync(context, directory, cancellationToken);
        }
        finally
        {
            SyncMetrics.Record(SyncMetrics.Authenticate, started);
        }
    }

    private static async Task<(StoreIdentity? Store, IResult? Refusal, CancellationToken Changed)> CheckCredentialAsync(HttpContext context, IStoreDirectory directory, CancellationToken cancellationToken)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        var colon = header.IndexOf(':', StringComparison.Ordinal);
        if (!header.StartsWith(bearer, StringComparison.Ordinal) || colon < bearer.Length + 1 || colon == header.Length - 1)
        {
            return (null, Problem(StatusCodes.Status401Unauthorized, "No store credential", "Send 'Authorization: Bearer <store id>:<secret>' with the credential HQ issued to the store."), default);
        }

        var storeId = header[bearer.Length..colon];
        var result = await directory.AuthenticateAsync(storeId, header[(colon + 1)..], cancellationToken);
        if (result.Revoked)
        {
            return (null, Problem(StatusCodes.Status403Forbidden, "Credential revoked", $"Store '{storeId}''s credential was revoked at HQ; ask HQ for a new one."), default);
        }

        if (result.Store is null)
        {
            return (null, Problem(StatusCodes.Status401Unauthorized, "Wrong store credential", $"Store '{storeId}' is unknown or the secret is wrong."), default);
        }

        // Mutual TLS: the certificate the connection presented must be this store's (checked once per connection and
        // again when the CRL changes or the certificate's validity ends).
        if (context.RequestServices.GetService<StoreCertificates>() is { } certificates && CertificateProblem(context, certificates, storeId) is { } problem)
        {
            context.RequestServices.GetService<ISyncObserver>()?.Refused(result.Store, problem);
            return (null, Problem(StatusCodes.Status403Forbidden, "Client certificate refused", problem + "."), default);
        }

        return (result.Store, null, result.Changed);
    }

    private static string? CertificateProblem(HttpContext context, StoreCertificates certificates, string storeId)
    {
        var certificate = context.Connection.ClientCertificate;
        var items = context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items;
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var key = (storeId, certificates.RevocationList);
        if (items?.TryGetValue(typeof(StoreCertificates), out var cached) == true && cached is CheckedCertificate done && done.Key.Equals(key) && now < done.Until)
        {
            return done.Problem;
        }

        var problem = certificates.Problem(certificate, storeId);
        if (items is not null)
        {
            items[typeof(StoreCertificates)] = new CheckedCertificate(key, problem, certificate?.NotAfter.ToUniversalTime() ?? DateTimeOffset.MaxValue);
        }

        return problem;
    }

    private sealed record CheckedCertificate((string StoreId, RevocationList? List) Key, string? Problem, DateTimeOffset Until);

    /// <summary>The request body, in a rented buffer the caller disposes.</summary>
    private static async Task<PooledBuffer> ReadBodyAsync(HttpContext context, int maxBytes, CancellationToken cancellationToken)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        if (context.Request.ContentLength > maxBytes)
        {
            throw new BatchTooLargeException($"The request body is {context.Request.ContentLength} bytes; the limit is {maxBytes}.");
        }

        var buffer = new PooledBuffer((int)Math.Min(context.Request.ContentLength ?? 16 * 1024, maxBytes) + 1);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken)) > 0)
            {
                buffer.Advance(read);
                if (buffer.WrittenCount > maxBytes)
                {
                    // Where the server's own limit cannot be set (already reading), it is counted here.
                    throw new BatchTooLargeException($"The request body is over the limit of {maxBytes} bytes.");
                }
            }

            return buffer;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            buffer.Dispose();
            throw new BatchTooLargeException($"The request body is over the limit of {maxBytes} bytes.", ex);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    internal static bool TryLong(IQueryCollection query, string name, long fallback, long min, long max, out long value)
    {
        value = fallback;
        if (!query.TryGetValue(name, out var text))
        {
            return true;
        }

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }

    internal static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);
}
