using System.Runtime.CompilerServices;

namespace Outpost.Store.Feed;

/// <summary>The shared end of a live Server-Sent Events stream (a device's feed, a service's subscription).</summary>
internal static class LiveStream
{
    /// <summary>
    /// The items of <paramref name="source"/> until it ends or any of the tokens is cancelled (the client gone, the
    /// device or service revoked, the server stopping); the cancellation ends the stream quietly instead of failing it.
    /// </summary>
    public static async IAsyncEnumerable<T> UntilEnded<T>(Func<CancellationToken, IAsyncEnumerable<T>> source, CancellationToken aborted, CancellationToken stopping,
        CancellationToken revoked, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping, revoked, cancellationToken);
        await using var items = source(linked.Token).GetAsyncEnumerator(linked.Token);
        while (true)
        {
            try
            {
                if (!await items.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            yield return items.Current;
        }
    }
}
