using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Store;

/// <summary>
/// Wakes live views when a scheduled price, store campaign or promotion starts or ends: at that store-local
/// moment it records a local <c>PricesChanged</c> event (topic <c>schedule</c>, never replicated), which the feed
/// announces on the <c>menu</c> channel, so shelf labels, menu boards and kiosks show the new price from its
/// start even with no event arriving from HQ and the link down.
/// </summary>
internal sealed partial class PriceSchedule(StoreServices services, IEventLog log, StoreOptions options, ILogger<PriceSchedule> logger) : BackgroundService
{
    /// <summary>The local topic of schedule ticks.</summary>
    public const string Topic = "schedule";

    /// <summary>The event type of a tick.</summary>
    public const string PricesChanged = "PricesChanged";

    /// <summary>Re-read the schedule at least this often (new prices may have arrived).</summary>
    private static readonly TimeSpan Recheck = TimeSpan.FromMinutes(1);

    /// <summary>The least time between two looks at the schedule when events keep arriving.</summary>
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var time = options.Time;
        var checkedUpTo = time.GetUtcNow();
        for (var ticks = 0L; !stoppingToken.IsCancellationRequested && ticks < long.MaxValue; ticks++)
        {
            try
            {
                // Read models first, so a price that just arrived is in the schedule.
                var head = log.Head;
                await services.Retail.CatchUpToAsync(head, stoppingToken);
                var now = time.GetUtcNow();
                var next = await services.Retail.NextPriceChangeAsync(checkedUpTo, stoppingToken);
                if (next is { } due && due <= now)
                {
                    await log.AppendAsync(new NewEvent
                    {
                        Topic = Topic,
                        Type = PricesChanged,
                        Key = "prices",
                        Payload = NewEvent.Json(new ScheduleTick(due), StoreJsonContext.Default.ScheduleTick),
                    }, stoppingToken);
                    checkedUpTo = now;
                    continue;
                }

                checkedUpTo = now;
                var wait = next is { } at && at - now < Recheck ? at - now : Recheck;
                using var woken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var arrival = log.WaitForAppendAsync(head, woken.Token).AsTask();
                var timer = Task.Delay(wait, time, woken.Token);
                var first = await Task.WhenAny(arrival, timer);
                await woken.CancelAsync();
                if (first == arrival)
                {
                    // Events arrive all the time (every sale): look at the schedule again at most once a second.
                    await Task.Delay(Debounce, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The price schedule failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

/// <summary>A scheduled price change took effect.</summary>
/// <param name="At">When.</param>
public sealed record ScheduleTick(DateTimeOffset At);
