using System.Data.Common;

namespace Outpost.Core.Log;

/// <summary>Parameters for read-model commands, whatever the database under the log.</summary>
public static class DbCommandExtensions
{
    /// <summary>Adds a named parameter (null becomes SQL NULL) and returns the command.</summary>
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }
}
