namespace Outpost.Core.Log;

/// <summary>The few statements every read model needs: its schema, and parameterised writes in the consumer's transaction.</summary>
public static class ReadModelExtensions
{
    /// <summary>
    /// Runs a read model's DDL (<c>CREATE TABLE IF NOT EXISTS ...</c>) in one committed transaction. Several nodes on
    /// one PostgreSQL database may start at once, and two concurrent <c>CREATE TABLE IF NOT EXISTS</c> of the same
    /// table can fail on the catalog's unique index: the loser tries again and then finds the table there.
    /// </summary>
    public static async Task CreateTablesAsync(this IEventLog log, string ddl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var tx = await log.BeginTransactionAsync(cancellationToken);
                await tx.ExecuteAsync(ddl, cancellationToken);
                await tx.CommitAsync(cancellationToken);
                return;
            }
            catch (System.Data.Common.DbException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>Runs one statement with named parameters in the transaction; returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(this ILogTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(parameters);
        await using var command = transaction.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
