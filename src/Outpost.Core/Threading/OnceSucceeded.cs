namespace Outpost.Core.Threading;

/// <summary>
/// An asynchronous initialisation (a read model's tables, say) that runs until it has succeeded once. Unlike a
/// <c>Lazy&lt;Task&gt;</c>, a failure is not kept: an HQ node that starts while its database restarts must not fail
/// every later request with the first attempt's error, but try again on the next one. Callers that arrive together
/// share one attempt; a caller's cancellation stops its wait, not the attempt.
/// </summary>
public sealed class OnceSucceeded(Func<CancellationToken, Task> initialise)
{
    private readonly Lock _gate = new();
    private Task? _attempt;

    /// <summary>Completes once the initialisation has succeeded; starts it (again) when none succeeded or runs.</summary>
    /// <exception cref="Exception">Whatever this attempt of the initialisation threw.</exception>
    public Task EnsureAsync(CancellationToken cancellationToken = default)
    {
        Task attempt;
        lock (_gate)
        {
            if (_attempt is null || _attempt.IsFaulted || _attempt.IsCanceled)
            {
                _attempt = initialise(CancellationToken.None);
            }

            attempt = _attempt;
        }

        return attempt.WaitAsync(cancellationToken);
    }
}
