using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Hq;

/// <summary>
/// <c>GET /sync/v1/down/stream?after=N</c>: the store's down feed on one long request. HQ writes a frame
/// (<see cref="DownStreamFrame"/>) at once, then one whenever the feed has events in the store's scopes, and an
/// empty one when nothing was sent for <c>keepalive</c> ms (the store's long-poll time, at most
/// <see cref="SyncServerOptions.MaxLongPoll"/>), so the store knows the link is alive. A long poll costs a whole
/// request per change (parsing, routing, authentication, headers, on both sides); a frame is one write. The stream
/// ends after <see cref="SyncServerOptions.MaxStream"/>, when HQ stops, or when the store's credential changes; the
/// store connects again (and is checked again). The store's cursor moves only with frames it has stored, so a
/// stream cut anywhere loses and repeats nothing.
/// </summary>
internal static class DownStream
{
    public static async Task<IResult> StreamAsync(HttpContext context, IEventLog log, DownFeed feed, IStoreDirectory directory, IOptions<SyncServerOptions> options,
        SyncAdmission admission, IHostApplicationLifetime lifetime, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!options.Value.ServeDownStream)
        {
            return SyncEndpoints.Problem(StatusCodes.Status404NotFound, "Not served here", "This HQ does not serve the streamed down feed (Sync:ServeDownStream); long-poll " + SyncWire.DownPath + ".");
        }

        // The permit covers the credential and the first frame, never the wait for events.
        var permit = await admission.EnterAsync(cancellationToken);
        if (permit is null)
        {
            return admission.Busy(context);
        }

        using var first = permit;

        var (store, refusal, changed) = await SyncEndpoints.AuthenticateAsync(context, directory, cancellationToken);
        if (store is null)
        {
            return refusal!;
        }

        SyncEndpoints.ReportOf(context, store);
        var query = context.Request.Query;
        var limits = options.Value;
        var longest = (long)limits.MaxLongPoll.TotalMilliseconds;
        if (!SyncEndpoints.TryLong(query, "after", 0, 0, long.MaxValue, out var after) || !SyncEndpoints.TryLong(query, "max", 1000, 1, 10_000, out var max)
            || !SyncEndpoints.TryLong(query, "keepalive", longest, 100, long.MaxValue, out var keepAliveMs))
        {
            return SyncEndpoints.Problem(StatusCodes.Status400BadRequest, "Bad query",
                "Use after=<HQ log position, 0 or more>, max=<1-10000 events>, keepalive=<100 ms or more>.");
        }

        // Sooner than the store asked is always safe (it waits longer than that for a frame); later is not.
        keepAliveMs = Math.Min(keepAliveMs, longest);

        var scopes = store.Scopes;
        var zstd = context.Request.Headers.AcceptEncoding.ToString().Contains("zstd", StringComparison.OrdinalIgnoreCase);
        var keepAlive = TimeSpan.FromMilliseconds(keepAliveMs);
        var observer = context.RequestServices.GetService<ISyncObserver>();
        using var lifetimeEnds = new CancellationTokenSource(limits.MaxStream, time);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping, changed, lifetimeEnds.Token);
        context.Response.ContentType = DownStreamFrame.MediaType;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.StartAsync(cancellationToken);

        var woken = false;
        var sentAny = false;
        var lastSent = 0L;

        // One keep-alive timer a stream, moved on after each frame rather than made anew for each wait: with 10,000
        // streams on a node, creating and dropping a timer for each wake was a tenth of the node's work.
        var quiet = CancellationTokenSource.CreateLinkedTokenSource(ending.Token);
        try
        {
            while (!ending.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var page = await feed.ReadAsync(after, scopes, (int)max, ending.Token);
                if (woken)
                {
                    SyncMetrics.Record(SyncMetrics.Read, started);
                }

                // The first frame at once (it proves the link), then one for events, or to keep the link alive.
                if (page.Events.Count > 0 || !sentAny || Stopwatch.GetElapsedTime(lastSent) >= keepAlive)
                {
                    started = Stopwatch.GetTimestamp();
                    var (body, compressed) = page.Events.Count == 0 ? ([], false) : feed.Encoded(page.Events, zstd);
                    DownStreamFrame.Write(body, compressed, page.ScannedTo, log.Head, context.Response.BodyWriter);
                    if ((await context.Response.BodyWriter.FlushAsync(ending.Token)).IsCompleted)
                    {
                        break; // the connection is gone
                    }

                    observer?.DownServed(store, page.ScannedTo, log.Head);
                    if (page.Events.Count > 0)
                    {
                        SyncMetrics.Record(SyncMetrics.Respond, started);
                    }

                    lastSent = Stopwatch.GetTimestamp();
                    sentAny = true;
                    permit.Dispose();
                }

                after = page.ScannedTo;
                woken = false;
                if (page.Events.Count == max)
                {
                    continue; // catching up: the next page at once
                }

                var quietFor = keepAlive - Stopwatch.GetElapsedTime(lastSent);
                if (quiet.IsCancellationRequested)
                {
                    quiet.Dispose();
                    quiet = CancellationTokenSource.CreateLinkedTokenSource(ending.Token);
                }

                quiet.CancelAfter(quietFor > TimeSpan.Zero ? quietFor : TimeSpan.Zero);
                try
                {
                    await feed.WaitForDownAsync(after, scopes, quiet.Token);
                    woken = true;
                }
                catch (OperationCanceledException) when (!ending.IsCancellationRequested)
                {
                    // Quiet for the keep-alive time: an empty frame goes next.
                }
            }
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // The store went, HQ stops, the credential changed or the stream's time is up: the store connects again.
        }
        catch (IOException)
        {
            // The connection broke mid-write: the store connects again from the cursor it stored.
        }
        finally
        {
            quiet.Dispose();
        }

        return Results.Empty;
    }
}
