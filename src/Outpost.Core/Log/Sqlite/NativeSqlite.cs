using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// Direct calls into the SQLite library that Microsoft.Data.Sqlite already loads (<c>e_sqlite3</c>), for the
/// two hot paths: binding a row on append and reading columns on read. SQLitePCLRaw's wrappers take a
/// SafeHandle reference and make two calls per column (about 60 ns); these are plain calls on the raw
/// pointers of statements the caller owns, without a GC transition (SQLite's accessors neither block nor
/// call back).
/// </summary>
internal static unsafe partial class NativeSqlite
{
    private const string Library = "e_sqlite3";

    /// <summary>SQLITE_TRANSIENT: SQLite copies the bound bytes.</summary>
    private static readonly IntPtr Transient = new(-1);

    public const int Row = 100;
    public const int Done = 101;
    public const int Null = 5;

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial long sqlite3_column_int64(IntPtr statement, int column);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int sqlite3_column_type(IntPtr statement, int column);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial byte* sqlite3_column_blob(IntPtr statement, int column);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int sqlite3_column_bytes(IntPtr statement, int column);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int sqlite3_bind_int64(IntPtr statement, int index, long value);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int sqlite3_bind_null(IntPtr statement, int index);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int sqlite3_bind_text(IntPtr statement, int index, byte* text, int length, IntPtr destructor);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int sqlite3_bind_blob(IntPtr statement, int index, byte* blob, int length, IntPtr destructor);

    /// <summary>A column's bytes (text as UTF-8), valid until the statement steps or resets.</summary>
    public static ReadOnlySpan<byte> Column(IntPtr statement, int column)
    {
        var data = sqlite3_column_blob(statement, column);
        return data is null ? default : new ReadOnlySpan<byte>(data, sqlite3_column_bytes(statement, column));
    }

    public static int BindText(IntPtr statement, int index, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* p = utf8)
        {
            // A non-null pointer even for an empty span: a null pointer would bind NULL, not ''.
            byte empty = 0;
            return sqlite3_bind_text(statement, index, p == null ? &empty : p, utf8.Length, Transient);
        }
    }

    public static int BindBlob(IntPtr statement, int index, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            byte empty = 0;
            return sqlite3_bind_blob(statement, index, p == null ? &empty : p, bytes.Length, Transient);
        }
    }
}
