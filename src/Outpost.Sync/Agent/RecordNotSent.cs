namespace Outpost.Sync.Agent;

/// <summary>A damaged record of the store's log that the up link stepped over: it was never sent to HQ.</summary>
/// <param name="Seq">Its position in the store's log.</param>
/// <param name="Problem">What the log found wrong with it.</param>
public sealed record RecordNotSent(long Seq, string Problem);
