namespace Outpost.Sync.Agent;

/// <summary>Exponential backoff with full jitter (AWS Architecture Blog, 2015): delay = random(0, min(cap, base·2^n)).</summary>
internal sealed class Backoff(TimeSpan initial, Random random)
{
    private int _failures;

    public int Failures => _failures;

    public void Reset() => _failures = 0;

    public TimeSpan Next(TimeSpan cap)
    {
        var ceiling = Math.Min(cap.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 30)));
        _failures++;
        return TimeSpan.FromMilliseconds(random.NextDouble() * ceiling);
    }
}
