using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Outpost.Sync.Hq;

/// <summary>
/// Admission control for HQ's sync work on one node. A node that comes back (a restart, a failover) meets every store
/// it serves reconnecting at once; each request needs the database (its credential, the batch, the feed's first
/// page), and without a bound thousands of them wait on the connection pool, which runs dry: requests wait 15 s for a
/// connection, then fail, and the open sockets pile up until the machine runs out of file handles (5,000 stores on
/// one node, docs/simulation.md). Here at most <see cref="SyncServerOptions.MaxConcurrentWork"/> requests work at
/// once, up to <see cref="SyncServerOptions.MaxQueuedWork"/> more wait in turn for at most
/// <see cref="SyncServerOptions.MaxQueueWait"/>, and the rest are told at once: 503 with <c>Retry-After</c>, which
/// the store's agent honours with jitter, so the herd spreads out instead of piling up. An up request holds its
/// permit whole; a down request (long poll or stream) until its first answer, never while it waits for events.
/// </summary>
public sealed class SyncAdmission : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly SyncServerOptions _options;
    private readonly TimeProvider _time;
    private long _turnedAway;

    /// <summary>Admission for one node, with its sync options and clock.</summary>
    public SyncAdmission(IOptions<SyncServerOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentWork,
            QueueLimit = _options.MaxQueuedWork,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Requests turned away busy since the node started.</summary>
    public long TurnedAway => Interlocked.Read(ref _turnedAway);

    /// <summary>A permit to work (given back once, however often disposed), or null when the node is too busy (answer with <see cref="Busy"/>).</summary>
    public async ValueTask<Permit?> EnterAsync(CancellationToken cancellationToken)
    {
        var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            using var wait = new CancellationTokenSource(_options.MaxQueueWait, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, wait.Token);
            try
            {
                lease = await _limiter.AcquireAsync(1, linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return TurnAway();
            }

            if (!lease.IsAcquired)
            {
                lease.Dispose();
                return TurnAway();
            }
        }

        return new Permit(lease);
    }

    /// <summary>503, HQ busy, with <c>Retry-After</c>: nothing was applied.</summary>
    public IResult Busy(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var seconds = Math.Max(1, (int)Math.Ceiling(_options.BusyRetryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return SyncEndpoints.Problem(StatusCodes.Status503ServiceUnavailable, "HQ is busy",
            string.Create(CultureInfo.InvariantCulture, $"This HQ node has {_options.MaxConcurrentWork} sync requests working and {_options.MaxQueuedWork} waiting; nothing was applied. Send again after {seconds} s."));
    }

    /// <inheritdoc />
    public void Dispose() => _limiter.Dispose();

    private Permit? TurnAway()
    {
        Interlocked.Increment(ref _turnedAway);
        SyncMetrics.TurnedAway.Add(1);
        return null;
    }

    /// <summary>A permit to work; disposing it gives it back, once.</summary>
    public sealed class Permit(RateLimitLease lease) : IDisposable
    {
        private RateLimitLease? _lease = lease;

        /// <inheritdoc />
        public void Dispose() => Interlocked.Exchange(ref _lease, null)?.Dispose();
    }
}
