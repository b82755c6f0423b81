namespace Outpost.Core.Log;

/// <summary>Moves a named cursor in the same transaction as an append.</summary>
/// <param name="Name">The cursor's name, for example <c>down:hq</c>.</param>
/// <param name="Kind">What it tracks.</param>
/// <param name="Value">Its new position.</param>
public sealed record CursorUpdate(string Name, CursorKind Kind, long Value);
