namespace Outpost.Core.Log;

/// <summary>A record that could not be served.</summary>
/// <param name="Seq">Its sequence.</param>
/// <param name="Problem">What is wrong with it.</param>
public sealed record DamagedRecord(long Seq, string Problem);

/// <summary>What <c>outpost log verify</c> found in a log file.</summary>
/// <param name="Path">The file.</param>
/// <param name="LastSeq">The highest sequence the file says it committed (0 if unreadable).</param>
/// <param name="RecordsOk">Records whose checksum matched.</param>
/// <param name="Damaged">Records that failed their checksum or could not be read.</param>
/// <param name="FileProblems">Problems SQLite found in the file's structure (indexes, pages), if any.</param>
public sealed record VerificationReport(string Path, long LastSeq, long RecordsOk, IReadOnlyList<DamagedRecord> Damaged, IReadOnlyList<string> FileProblems)
{
    /// <summary>True when every record is intact and the file structure is sound.</summary>
    public bool Healthy => Damaged.Count == 0 && FileProblems.Count == 0;
}
