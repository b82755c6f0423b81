namespace Outpost.Sync.Agent;

/// <summary>Which link a report is about.</summary>
public enum SyncLink
{
    /// <summary>Store → HQ.</summary>
    Up = 0,

    /// <summary>HQ → store.</summary>
    Down = 1,
}

/// <summary>Folds the links' outcomes into one connectivity state and tells when it changes.</summary>
public sealed class ConnectivityMonitor
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly string?[] _errors = ["not connected yet", "not connected yet"];
    private readonly DateTimeOffset?[] _lastSuccess = new DateTimeOffset?[2];
    private ConnectivityStatus _current;
    private int _notSent;
    private long _lastNotSent;

    /// <summary>Creates a monitor; a store starts offline until HQ first answers.</summary>
    public ConnectivityMonitor(TimeProvider time)
    {
        _time = time;
        _current = new ConnectivityStatus(ConnectivityState.Offline, time.GetUtcNow(), "not connected yet", 0, 0, null, null);
    }

    /// <summary>Raised after the state changes (online, degraded, offline).</summary>
    public event Action<ConnectivityStatus>? Changed;

    /// <summary>The current status.</summary>
    public ConnectivityStatus Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Records a link's outcome and the latest backlog figures.</summary>
    public void Report(SyncLink link, string? error, long? upBacklog = null, long? downLag = null)
    {
        ConnectivityStatus status;
        bool changed;
        lock (_gate)
        {
            var i = (int)link;
            _errors[i] = error;
            if (error is null)
            {
                _lastSuccess[i] = _time.GetUtcNow();
            }

            status = Recompute(upBacklog ?? _current.UpBacklog, downLag ?? _current.DownLag, out changed);
        }

        if (changed)
        {
            Changed?.Invoke(status);
        }
    }

    /// <summary>A link's failure in the words the status shows: a request cancelled by its timeout is HQ not answering in time.</summary>
    internal static string Describe(Exception failure) => failure is OperationCanceledException ? "HQ did not answer in time" : failure.Message;

    /// <summary>Records the damaged records the up link has stepped over so far (each once), shown with the status from now on.</summary>
    public void ReportNotSent(int count, long last)
    {
        lock (_gate)
        {
            (_notSent, _lastNotSent) = (count, last);
            _current = _current with { NotSent = count, LastNotSent = last };
        }
    }

    private ConnectivityStatus Recompute(long upBacklog, long downLag, out bool changed)
    {
        // Each link's last outcome decides: both failing is offline, one failing is degraded.
        var failing = _errors.Count(e => e is not null);
        var state = failing switch
        {
            0 => ConnectivityState.Online,
            1 => ConnectivityState.Degraded,
            _ => ConnectivityState.Offline,
        };
        changed = state != _current.State;
        var since = changed ? _time.GetUtcNow() : _current.Since;
        _current = new ConnectivityStatus(state, since, _errors[0] ?? _errors[1], upBacklog, downLag, _lastSuccess[0], _lastSuccess[1], _notSent, _lastNotSent);
        return _current;
    }
}
