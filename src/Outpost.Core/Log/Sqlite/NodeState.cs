namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// What the writer knows of one origin node: its row id, the highest origin seq held, and the highest
/// held with no gap below it (what HQ acknowledges to a store).
/// </summary>
internal sealed class NodeState(int id, string name, long contiguous, long max)
{
    public int Id { get; } = id;

    public string Name { get; } = name;

    public long Contiguous { get; set; } = contiguous;

    public long Max { get; set; } = max;
}
