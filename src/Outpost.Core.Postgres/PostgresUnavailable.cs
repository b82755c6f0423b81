using Npgsql;

namespace Outpost.Core.Postgres;

/// <summary>
/// Whether a failure says the database cannot be reached now (restarting, failing over, refusing connections)
/// rather than that a statement or its caller is wrong; and what to do about the connections it leaves behind.
/// </summary>
public static class PostgresUnavailable
{
    /// <summary>True for connection failures and the server's own "shutting down", "starting up", "too many connections".</summary>
    public static bool Is(Exception? error) => error switch
    {
        null => false,

        // 57P: the server is shutting down or starting up; 08: the connection failed; 53300: too many connections.
        PostgresException postgres => postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState == "53300",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException || Is(npgsql.InnerException),
        _ => Is(error.InnerException),
    };

    /// <summary>
    /// After such a failure, drops the pool's idle connections: Npgsql does not test a pooled connection before
    /// handing it out, so after a database restart every idle one would fail one request each before the pool
    /// opened a new one (with 150 of them, many seconds of errors).
    /// </summary>
    public static void ForgetConnections(NpgsqlDataSource source, Exception error)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (Is(error))
        {
            source.Clear();
        }
    }
}
