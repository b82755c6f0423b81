using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Store.Services;

/// <summary>An event as a subscribed service receives it.</summary>
/// <param name="Position">Its position in the store's log: what the service acknowledges.</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Type">Its type.</param>
/// <param name="Version">Its type's version.</param>
/// <param name="Key">The entity it is about.</param>
/// <param name="Scope">Who it is for: <c>*</c>, a region or this store.</param>
/// <param name="Origin">The node it was first recorded on (this store, or HQ for what came down).</param>
/// <param name="OriginSeq">Its sequence there.</param>
/// <param name="CorrelationId">The business flow it belongs to, if any.</param>
/// <param name="Payload">Its payload, as its contract says (<c>GET /contracts/{topic}/{type}/{version}</c>).</param>
public sealed record ServiceEnvelope(long Position, string Topic, string Type, int Version, string Key, string Scope, string Origin, long OriginSeq, string? CorrelationId, JsonElement Payload);

/// <summary>Acknowledging a subscription's events up to a position.</summary>
/// <param name="Position">The last position the service has handled for good.</param>
public sealed record AckRequest(long Position);

/// <summary>Where a subscription stands.</summary>
/// <param name="Name">The subscription.</param>
/// <param name="Acknowledged">The position acknowledged: delivery starts after it.</param>
/// <param name="Head">The store's log head.</param>
/// <param name="FirstReadable">The first position the subscription's topics can still be read from (retention removed what is before it).</param>
public sealed record SubscriptionState(string Name, long Acknowledged, long Head, long FirstReadable);

/// <summary>
/// Services' durable subscriptions: a named checkpoint per service and subscription, kept by the store server, from
/// which events are delivered over Server-Sent Events, at least once and in the log's order, and acknowledged by
/// position. Checkpoints never hold back the log's retention: a service that falls behind past it is told so, with
/// the first position it can still read (410), and is never skipped past events silently.
/// </summary>
/// <param name="log">The store's log.</param>
/// <param name="catchUpPerSecond">
/// The most events a second one stream delivers while it catches up (its pages come full): a service far behind reads
/// at this pace, so that its catch-up does not take the tills' share of the store's cores. A stream that is caught up
/// delivers each event as it is committed.
/// </param>
/// <param name="time">The clock the pace is kept by.</param>
public sealed class Subscriptions(IEventLog log, int catchUpPerSecond = Subscriptions.DefaultCatchUpPerSecond, TimeProvider? time = null)
{
    /// <summary>The catch-up pace by default (<c>ServiceCatchUpPerSecond</c>): a million events behind is some eight minutes.</summary>
    public const int DefaultCatchUpPerSecond = 2000;

    /// <summary>Events read from the log at a time.</summary>
    public const int Page = 200;

    /// <summary>How long a stream stays quiet before it sends a heartbeat (so the service and any proxy know it is alive).</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    /// <summary>The checkpoint's cursor name.</summary>
    public static string Cursor(string serviceId, string name) => "subscription:" + serviceId + ":" + name;

    /// <summary>Whether a subscription name is acceptable: 1-64 lower-case letters, digits, '.', '-', '_'.</summary>
    public static bool IsName(string? name) =>
        name is { Length: > 0 and <= 64 } && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-' or '_');

    /// <summary>The acknowledged position of a subscription; a new one starts at the beginning or, asked to, at the log's head.</summary>
    public async Task<long> CheckpointAsync(string serviceId, string name, bool fromLatest, CancellationToken cancellationToken)
    {
        var cursor = Cursor(serviceId, name);
        if (await log.GetCursorAsync(cursor, cancellationToken) is { } acknowledged)
        {
            return acknowledged;
        }

        var start = fromLatest ? log.Head : 0;
        await log.SetCursorAsync(cursor, CursorKind.Remote, start, cancellationToken);
        return start;
    }

    /// <summary>Moves a subscription's checkpoint forward (never back: what was acknowledged is never delivered again).</summary>
    /// <exception cref="ArgumentException">The position is past the log's head or negative.</exception>
    public async Task<long> AcknowledgeAsync(string serviceId, string name, long position, CancellationToken cancellationToken)
    {
        if (position < 0 || position > log.Head)
        {
            throw new ArgumentException($"Position {position} is not in the store's log: acknowledge a position you received (at most {log.Head} now).", nameof(position));
        }

        var cursor = Cursor(serviceId, name);
        var current = await log.GetCursorAsync(cursor, cancellationToken) ?? 0;
        if (position > current)
        {
            await log.SetCursorAsync(cursor, CursorKind.Remote, position, cancellationToken);
            return position;
        }

        return current;
    }

    /// <summary>The first position of <paramref name="topics"/> that retention has not removed.</summary>
    public async Task<long> FirstReadableAsync(IReadOnlyCollection<string> topics, CancellationToken cancellationToken) =>
        await log.GetRemovedThroughAsync(topics, cancellationToken) + 1;

    /// <summary>
    /// The events after <paramref name="after"/> that pass <paramref name="filter"/>, as Server-Sent Events (<c>id</c>:
    /// the position, <c>event</c>: the type, <c>data</c>: the envelope), then each new one as it is committed, until
    /// <paramref name="cancellationToken"/> ends it. A quiet stream sends <c>event: heartbeat</c> with the log's head. If
    /// retention removes events the stream has not reached, it sends <c>event: gone</c> with the first readable position
    /// and ends.
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> StreamAsync(long after, ReadFilter filter, IReadOnlyCollection<string> topics,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var position = after;
        var quiet = System.Diagnostics.Stopwatch.StartNew();
        var clock = time ?? TimeProvider.System;
        var paced = clock.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            var page = await log.ReadAsync(position, filter, Page, cancellationToken);

            // Checked after the read: whatever retention removed before it shows here, so nothing is skipped unannounced.
            if (await log.GetRemovedThroughAsync(topics, cancellationToken) is var removed && removed > position)
            {
                yield return new SseItem<string>($$"""{"firstReadable":{{removed + 1}},"acknowledged":{{after}}}""", "gone");
                yield break;
            }

            foreach (var e in page.Events)
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(Envelope(e), StoreJsonContext.Default.ServiceEnvelope), e.Type)
                {
                    EventId = e.Seq.ToString(CultureInfo.InvariantCulture),
                };
            }

            position = Math.Max(position, page.ScannedTo);
            if (page.Events.Count > 0)
            {
                quiet.Restart();
                if (page.Events.Count == Page && catchUpPerSecond > 0)
                {
                    // Behind: this page's share of a second at the catch-up pace, less what reading and sending it took.
                    var rest = TimeSpan.FromSeconds(Page / (double)catchUpPerSecond) - clock.GetElapsedTime(paced);
                    if (rest > TimeSpan.Zero)
                    {
                        await Task.Delay(rest, clock, cancellationToken);
                    }
                }

                paced = clock.GetTimestamp();
                continue;
            }

            if (quiet.Elapsed >= Heartbeat)
            {
                yield return new SseItem<string>($$"""{"head":{{log.Head}}}""", "heartbeat");
                quiet.Restart();
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(Heartbeat);
            try
            {
                await log.WaitForAppendAsync(position, wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private static ServiceEnvelope Envelope(StoredEvent e)
    {
        using var payload = JsonDocument.Parse(e.Payload);
        return new ServiceEnvelope(e.Seq, e.Topic, e.Type, e.Version, e.Key, e.Scope.ToString(), e.Origin.Node.Value, e.Origin.Seq, e.CorrelationId, payload.RootElement.Clone());
    }
}
