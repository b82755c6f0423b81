using System.Runtime.CompilerServices;
using Outpost.Core.Events;

namespace Outpost.Core.Log;

/// <summary>The live tail every log serves the same way: read pages, then wait for the next commit.</summary>
internal static class LogTail
{
    private const int Page = 1024;

    public static async IAsyncEnumerable<StoredEvent> TailAsync(IEventLog log, long afterSeq, ReadFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var position = afterSeq;
        while (true)
        {
            var page = await log.ReadAsync(position, filter, Page, cancellationToken);
            foreach (var e in page.Events)
            {
                yield return e;
            }

            position = page.ScannedTo;
            if (page.Events.Count < Page)
            {
                await log.WaitForAppendAsync(position, cancellationToken);
            }
        }
    }
}
