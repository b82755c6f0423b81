using System.CommandLine;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Cli.Commands;

/// <summary><c>outpost log verify FILE</c>: checks every record of a log file.</summary>
internal static class LogCommand
{
    public static Command Create(TextWriter output)
    {
        var path = new Argument<FileInfo>("file") { Description = "The log's SQLite file (for example data/store.db)." };
        var verify = new Command("verify", "Check a log file: SQLite's structure check, then every record's checksum. Exit code 0 when healthy, 1 when damaged.");
        verify.Arguments.Add(path);
        verify.SetAction((result, cancellationToken) =>
        {
            var file = result.GetValue(path)!;
            if (!file.Exists)
            {
                output.WriteLine($"No log file at '{file.FullName}'.");
                return Task.FromResult(2);
            }

            var report = SqliteLogVerifier.Verify(file.FullName, cancellationToken);
            output.WriteLine($"{report.Path}: last sequence {report.LastSeq}, {report.RecordsOk} records intact, {report.Damaged.Count} damaged.");
            foreach (var problem in report.FileProblems)
            {
                output.WriteLine($"  file: {problem}");
            }

            foreach (var damaged in report.Damaged.Take(100))
            {
                output.WriteLine($"  event {damaged.Seq}: {damaged.Problem}");
            }

            if (report.Damaged.Count > 100)
            {
                output.WriteLine($"  … and {report.Damaged.Count - 100} more damaged records.");
            }

            output.WriteLine(report.Healthy ? "healthy" : "DAMAGED: damaged records are never served or replicated; restore this node from HQ or a backup.");
            return Task.FromResult(report.Healthy ? 0 : 1);
        });

        var log = new Command("log", "Tools for a node's event log.");
        log.Subcommands.Add(verify);
        return log;
    }
}
