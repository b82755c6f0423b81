using System.Text;
using System.Text.Json;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Checkout;
using Outpost.Retail.Inventory;
using Outpost.Retail.Orders;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;
using Outpost.Store.Devices;
using Outpost.Sync.Agent;

namespace Outpost.Store.Feed;

/// <summary>One live-view message: its log sequence (the SSE id), its channel (the SSE event type) and a JSON body.</summary>
/// <param name="Seq">The log sequence of the event behind it.</param>
/// <param name="Channel">What changed: <c>orders</c>, <c>availability</c>, <c>menu</c>, <c>sales</c>, <c>connectivity</c>, or <c>hello</c>/<c>reset</c>.</param>
/// <param name="Json">The body.</param>
public sealed record FeedMessage(long Seq, string Channel, string Json);

/// <summary>
/// The store's live feed: one reader follows the log, waits until every read model has handled each event (so a
/// page that re-reads on a message sees the change), turns the events into channel messages and keeps the
/// latest ones in memory. Each device's SSE stream takes the channels its role needs and resumes after a
/// reconnect from <c>Last-Event-ID</c>. After a restart the feed rebuilds its memory from the log's tail, so a
/// page that reconnects to a restarted server misses nothing; a page that was away for longer than the memory
/// holds gets <c>reset</c> and reloads.
/// </summary>
public sealed partial class StoreFeed(IEventLog log, StoreServices services, ILogger<StoreFeed> logger) : BackgroundService
{
    /// <summary>Messages kept for reconnecting pages.</summary>
    public const int Capacity = 8192;

    private static readonly ReadFilter Topics = ReadFilter.ForTopics(OrderEvents.OrdersTopic, InventoryEvents.StockTopic, CheckoutEvents.SalesTopic, CatalogEvents.ProductsTopic,
        CatalogEvents.MenuTopic, PricingEvents.PricesTopic, PricingEvents.CampaignsTopic, PromotionEvents.PromotionsTopic, ReplicationAgent.ConnectivityTopic, PriceSchedule.Topic);

    private static readonly Dictionary<string, string[]> ChannelsByRole = new(StringComparer.Ordinal)
    {
        [DeviceRoles.Till] = ["orders", "menu", "availability"],
        [DeviceRoles.Kiosk] = ["orders", "menu", "availability"],
        [DeviceRoles.Signage] = ["orders", "menu", "availability"],
        [DeviceRoles.Kitchen] = ["orders", "menu", "availability"],
        [DeviceRoles.Handheld] = ["menu", "availability"],
        [DeviceRoles.BackOffice] = ["orders", "menu", "availability", "sales", "connectivity"],
    };

    private readonly Lock _gate = new();
    private readonly LinkedList<FeedMessage> _messages = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _position = -1;
    private long _coveredFrom;

    /// <summary>The sequence up to which the feed has read (and the read models have handled); -1 before it started.</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>The channels a role receives.</summary>
    public static IReadOnlyList<string> ChannelsFor(string role) => ChannelsByRole.TryGetValue(role, out var channels) ? channels : [];

    /// <summary>
    /// The messages after <paramref name="afterSeq"/> (null: from now) on the given channels, then the live ones,
    /// until cancelled. It starts with <c>hello</c> (a fresh connection: load your state) or <c>reset</c> (the
    /// gap is older than the feed remembers: reload your state).
    /// </summary>
    public async IAsyncEnumerable<FeedMessage> SubscribeAsync(long? afterSeq, IReadOnlyCollection<string> channels,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channels);
        while (Position < 0)
        {
            await NextAsync(cancellationToken);
        }

        long after;
        string greeting;
        lock (_gate)
        {
            (after, greeting) = afterSeq switch
            {
                null => (_position, "hello"),
                { } requested when requested >= _coveredFrom && requested <= _position => (requested, "resume"),
                _ => (_position, "reset"),
            };
        }

        yield return new FeedMessage(after, greeting, $$"""{"position":{{after}}}""");
        while (!cancellationToken.IsCancellationRequested)
        {
            List<FeedMessage> batch;
            Task next;
            lock (_gate)
            {
                // Messages are in sequence order: walk back from the newest to what this stream already sent, so a
                // wake-up costs what is new, not the whole memory (100 boards woken by one event each used to scan
                // all 8,192 messages, in turn, under this lock).
                var upTo = _position;
                batch = [];
                for (var node = _messages.Last; node is not null && node.Value.Seq > after; node = node.Previous)
                {
                    if (node.Value.Seq <= upTo && channels.Contains(node.Value.Channel))
                    {
                        batch.Add(node.Value);
                    }
                }

                batch.Reverse();
                after = upTo;
                next = _next.Task;
            }

            foreach (var message in batch)
            {
                yield return message;
            }

            await next.WaitAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var after = Math.Max(0, log.Head - Capacity);
        lock (_gate)
        {
            _coveredFrom = after;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A damaged record is reported by the log (health, metric) and, by the read models, parked; the feed steps over it.
                var page = await log.ReadPastDamageAsync(after, Topics, 256, static (_, _) => ValueTask.CompletedTask, stoppingToken);
                if (page.ScannedTo > after)
                {
                    await services.Retail.CatchUpToAsync(page.ScannedTo, stoppingToken);
                    foreach (var e in page.Events)
                    {
                        if (await DescribeAsync(e, stoppingToken) is { } message)
                        {
                            Publish(message);
                        }
                    }

                    after = page.ScannedTo;
                }

                Advance(after);
                if (page.ScannedTo <= after && page.Events.Count == 0)
                {
                    await log.WaitForAppendAsync(after, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogFeedFailed(logger, ex, after);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task<FeedMessage?> DescribeAsync(StoredEvent e, CancellationToken cancellationToken)
    {
        var retail = services.Retail;
        switch (e.Topic)
        {
            case OrderEvents.OrdersTopic:
                var orderId = e.Type == OrderEvents.OrderPlaced
                    ? e.Deserialize(OrderJsonContext.Default.OrderPlacedV1).OrderId
                    : e.Deserialize(OrderJsonContext.Default.OrderStatusChangedV1).OrderId;
                return await retail.Orders.GetAsync(orderId, cancellationToken) is { } order
                    ? new FeedMessage(e.Seq, "orders", JsonSerializer.Serialize(order with { Seq = e.Seq }, OrderJsonContext.Default.OrderView))
                    : null;
            case InventoryEvents.StockTopic:
                return await retail.Inventory.ChangedAtAsync(e.Seq, cancellationToken) ? Changed(e, "availability") : null;
            case CheckoutEvents.SalesTopic when e.Type == CheckoutEvents.SaleCompleted && e.Version <= CheckoutEvents.SaleCompletedVersion:
                // One message per event, so an SSE id names exactly one message: a sale that sold something out is an availability message.
                var changed = await retail.Inventory.ChangedAtAsync(e.Seq, cancellationToken);
                var sale = CheckoutEvents.ReadSaleCompleted(e);
                return new FeedMessage(e.Seq, changed ? "availability" : "sales",
                    JsonSerializer.Serialize(new SaleNotice(sale.SaleId, sale.TillId, sale.Total, sale.Currency, sale.LocalTime, changed), StoreJsonContext.Default.SaleNotice));
            case CheckoutEvents.SalesTopic:
                return null;
            case ReplicationAgent.ConnectivityTopic:
                return new FeedMessage(e.Seq, "connectivity", Encoding.UTF8.GetString(e.Payload.Span));
            default:
                return Changed(e, "menu");
        }
    }

    private static FeedMessage Changed(StoredEvent e, string channel) =>
        new(e.Seq, channel, JsonSerializer.Serialize(new ChangeNotice(e.Topic, e.Type, e.Key), StoreJsonContext.Default.ChangeNotice));

    private void Publish(FeedMessage message)
    {
        lock (_gate)
        {
            _messages.AddLast(message);
            while (_messages.Count > Capacity)
            {
                _coveredFrom = _messages.First!.Value.Seq;
                _messages.RemoveFirst();
            }
        }
    }

    private void Advance(long position)
    {
        TaskCompletionSource pulse;
        lock (_gate)
        {
            _position = position;
            pulse = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        pulse.TrySetResult();
    }

    private Task NextAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _next.Task.WaitAsync(cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The live feed failed after sequence {After}; retrying")]
    private static partial void LogFeedFailed(ILogger logger, Exception exception, long after);
}

/// <summary>Something that live views show changed (they re-read it).</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Type">The event type.</param>
/// <param name="Key">The entity.</param>
public sealed record ChangeNotice(string Topic, string Type, string Key);

/// <summary>A sale, for the back office's live view.</summary>
/// <param name="SaleId">The sale.</param>
/// <param name="TillId">The till.</param>
/// <param name="Total">Its total.</param>
/// <param name="Currency">The currency.</param>
/// <param name="LocalTime">When, store-local.</param>
/// <param name="AvailabilityChanged">Whether it sold something out.</param>
public sealed record SaleNotice(string SaleId, string TillId, decimal Total, string Currency, DateTime LocalTime, bool AvailabilityChanged);
