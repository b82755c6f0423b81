using Microsoft.Extensions.Logging;

namespace Outpost.Sync.Agent;

/// <summary>
/// A link's retries: exponential backoff with full jitter (AWS Architecture Blog, 2015):
/// delay = random(0, min(cap, base·2^n)), or longer when HQ said how long (<see cref="HqBusyException"/>), and an outage log that an operator can read. A store can be offline for
/// hours with a retry every few seconds, so only the first failure of an outage, a failure whose reason differs from
/// the last one logged, and a reminder every <see cref="Reminder"/> are warnings (with the exception); the other
/// retries are debug lines. The first success after failures logs how long the outage lasted.
/// </summary>
internal sealed partial class Backoff(TimeSpan initial, Random random, string link, ILogger logger, TimeProvider time)
{
    /// <summary>How often a continuing outage is logged again as a warning.</summary>
    public static readonly TimeSpan Reminder = TimeSpan.FromMinutes(5);

    private int _failures;
    private DateTimeOffset _since;
    private DateTimeOffset _warned;
    private string? _reason;

    public int Failures => _failures;

    /// <summary>Records a success: ends the outage, if there was one.</summary>
    public void Reset()
    {
        if (_failures > 0)
        {
            Log.Recovered(logger, link, _failures, (time.GetUtcNow() - _since).TotalSeconds);
        }

        _failures = 0;
        _reason = null;
    }

    /// <summary>Records a failure, logs it as the outage warrants and returns how long to wait before the next try.</summary>
    public TimeSpan Next(TimeSpan cap, Exception failure, string reason)
    {
        var now = time.GetUtcNow();
        var ceiling = Math.Min(cap.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 30)));
        _failures++;
        var delay = TimeSpan.FromMilliseconds(random.NextDouble() * ceiling);
        if (failure is HqBusyException busy && HqBusyException.Spread(busy.RetryAfter, random) is var asked && asked > delay)
        {
            delay = asked; // HQ said how long
        }

        if (_failures == 1)
        {
            _since = now;
        }

        if (_failures == 1 || !string.Equals(reason, _reason, StringComparison.Ordinal) || now - _warned >= Reminder)
        {
            _reason = reason;
            _warned = now;
            Log.Failed(logger, failure, link, reason, _failures, (now - _since).TotalSeconds, delay.TotalMilliseconds);
        }
        else
        {
            Log.Retrying(logger, link, reason, _failures, delay.TotalMilliseconds);
        }

        return delay;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Link} link failed: {Reason} (failure {Failures}, failing for {Seconds:F0} s); retrying in {DelayMs:F0} ms. Repeats of the same failure are logged at Debug.")]
        public static partial void Failed(ILogger logger, Exception exception, string link, string reason, int failures, double seconds, double delayMs);

        [LoggerMessage(2, LogLevel.Debug, "{Link} link failed again: {Reason} (failure {Failures}); retrying in {DelayMs:F0} ms.")]
        public static partial void Retrying(ILogger logger, string link, string reason, int failures, double delayMs);

        [LoggerMessage(3, LogLevel.Information, "{Link} link works again after {Failures} failures over {Seconds:F1} s.")]
        public static partial void Recovered(ILogger logger, string link, int failures, double seconds);
    }
}
