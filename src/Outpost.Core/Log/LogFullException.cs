using Microsoft.Data.Sqlite;

namespace Outpost.Core.Log;

/// <summary>
/// The log could not write because its disk is full: nothing of the write was kept (the transaction rolled back
/// whole; no record is ever half written). Writing resumes by itself once there is room again.
/// </summary>
public sealed class LogFullException : IOException
{
    /// <summary>Creates the exception.</summary>
    public LogFullException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LogFullException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public LogFullException(string message)
        : base(message)
    {
    }

    /// <summary>
    /// Whether an exception is a full disk, not a fault of what was being written: this exception, or SQLite's
    /// SQLITE_FULL (13), which SQLite answers when the file system said ENOSPC.
    /// </summary>
    public static bool Is(Exception exception) => exception switch
    {
        LogFullException => true,
        SqliteException { SqliteErrorCode: 13 } => true,
        { InnerException: { } inner } => Is(inner),
        _ => false,
    };

    /// <summary>The message for a log at <paramref name="path"/>: what happened, what was kept, how much room is left, what to do.</summary>
    public static string Describe(string path)
    {
        var free = FreeBytes(path);
        return $"The disk of log '{path}' is full{(free is { } f ? $" ({f / 1024:N0} KiB free)" : "")}: nothing of this write was kept. "
            + "Free space on that disk (old files, a larger disk, or smaller retention budgets); writing resumes by itself.";
    }

    private static long? FreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(path))!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
