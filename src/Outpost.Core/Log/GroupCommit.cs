using Outpost.Core.Diagnostics;

namespace Outpost.Core.Log;

/// <summary>
/// What every log's single writer does with a group of queued appends: commit them in one transaction, and if that
/// fails, commit each request alone so that only the bad one fails; then complete the callers and count the commit.
/// </summary>
internal static class GroupCommit
{
    /// <param name="group">The requests, in queue order.</param>
    /// <param name="commit">Writes the group in one transaction and returns the log's new head; throws on failure, writing nothing.</param>
    /// <param name="isCommitFailure">Which exceptions are a failed commit (others stop the writer).</param>
    /// <param name="failed">Told of a request that failed alone (for the log).</param>
    /// <param name="committed">Told of the new head once a group is durable, before its callers are completed.</param>
    /// <param name="logName">The log's name, as the metrics tag it.</param>
    public static void Run(IReadOnlyList<AppendRequest> group, Func<IReadOnlyList<AppendRequest>, long> commit, Func<Exception, bool> isCommitFailure,
        Action<Exception, AppendRequest> failed, Action<long> committed, string logName)
    {
        long head;
        try
        {
            head = commit(group);
        }
        catch (Exception ex) when (group.Count > 1 && isCommitFailure(ex))
        {
            foreach (var request in group)
            {
                Run([request], commit, isCommitFailure, failed, committed, logName);
            }

            return;
        }
        catch (Exception ex) when (isCommitFailure(ex))
        {
            failed(ex, group[0]);
            group[0].Completion.TrySetException(ex);
            return;
        }

        committed(head);
        var count = 0;
        foreach (var request in group)
        {
            count += request.Events.Count;
            request.Completion.TrySetResult(request.Results);
        }

        var log = new KeyValuePair<string, object?>("log", logName);
        CoreMetrics.Appended.Add(count, log);
        CoreMetrics.CommitSize.Record(count, log);
    }
}
