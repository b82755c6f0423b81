using System.Collections.Concurrent;

namespace Outpost.Store.Devices;

/// <summary>
/// Counts failed attempts (pairing codes, device tokens) per client address in a sliding window: past
/// <see cref="MaxFailures"/> in <see cref="Window"/>, that address is refused (429 with Retry-After) until the oldest
/// failure leaves the window. A till that works never fails, so it is never slowed; guessing a code or token from one
/// address gets ten tries in five minutes. Held in memory: a restart forgives, which costs an attacker a restart of the
/// store server per ten tries. The window runs on the monotonic clock: a store whose wall clock is set back does not
/// lock an address out for the hours it jumped.
/// </summary>
public sealed class FailureLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Queue<long>> _failures = new(StringComparer.Ordinal);

    /// <summary>Failures allowed in the window.</summary>
    public const int MaxFailures = 10;

    /// <summary>The window.</summary>
    public static TimeSpan Window { get; } = TimeSpan.FromMinutes(5);

    /// <summary>How long <paramref name="address"/> must wait, or null when it may try.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        if (!_failures.TryGetValue(address, out var failures))
        {
            return null;
        }

        lock (failures)
        {
            Expire(failures);
            return failures.Count >= MaxFailures ? Window - time.GetElapsedTime(failures.Peek()) : null;
        }
    }

    /// <summary>What a blocked address is told, and the whole seconds for its Retry-After header.</summary>
    public static (int Seconds, string Detail) Refusal(TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return (seconds, $"This address gave {MaxFailures} wrong pairing codes or device credentials within {Window.TotalMinutes:0} minutes; try again in {seconds} s.");
    }

    /// <summary>Records a failure from <paramref name="address"/>; true when it has now used up its tries.</summary>
    public bool Failed(string address)
    {
        var failures = _failures.GetOrAdd(address, _ => new Queue<long>());
        lock (failures)
        {
            Expire(failures);
            failures.Enqueue(time.GetTimestamp());
            while (failures.Count > MaxFailures)
            {
                failures.Dequeue();
            }

            return failures.Count >= MaxFailures;
        }
    }

    private void Expire(Queue<long> failures)
    {
        while (failures.Count > 0 && time.GetElapsedTime(failures.Peek()) >= Window)
        {
            failures.Dequeue();
        }
    }
}
