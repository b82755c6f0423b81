namespace Outpost.Cli.Simulation;

/// <summary>
/// When a store's process was down (SIGKILLed, until it answers <c>/health/ready</c> again), so that a device that gave
/// up can be told apart: gave up because its store server was down at some moment while it tried ("try again", what a
/// customer sees while the server restarts), or while the server was up (a failure of the store).
/// </summary>
internal sealed class Downtime
{
    private int _downs;
    private volatile bool _down;

    /// <summary>The process's state at one moment: how often it had gone down until then, and whether it was down.</summary>
    public readonly record struct Mark(int Downs, bool Down);

    public Mark Now => new(Volatile.Read(ref _downs), _down);

    public void WentDown()
    {
        _down = true;
        Interlocked.Increment(ref _downs);
    }

    public void CameUp() => _down = false;

    /// <summary>Whether the process was down at <paramref name="mark"/>, is down now, or went down in between.</summary>
    public bool Since(Mark mark) => mark.Down || _down || Volatile.Read(ref _downs) != mark.Downs;
}
