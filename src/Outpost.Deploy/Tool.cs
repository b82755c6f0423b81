using System.Diagnostics;
using System.Text;

namespace Outpost.Deploy;

/// <summary>What a tool printed and how it ended.</summary>
internal sealed record ToolResult(int ExitCode, string Output, string Error)
{
    /// <summary>The last lines of what it printed, for a message on the fleet page.</summary>
    public string Tail(int characters = 400)
    {
        var all = (Output + Error).Trim();
        return all.Length <= characters ? all : "…" + all[^characters..];
    }
}

/// <summary>Runs a command-line tool (podman) with a time limit; the process tree is killed when the limit passes or the agent stops.</summary>
internal static class Tool
{
    public static async Task<ToolResult> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new RuntimeException($"{file} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RuntimeException($"{file} cannot be run here: {ex.Message}", ex);
        }

        using (process)
        {
            var output = new StringBuilder();
            var error = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (error) { error.AppendLine(e.Data); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                throw new RuntimeException($"'{file} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout.TotalSeconds:0} s");
            }

            process.WaitForExit();
            lock (output)
            {
                lock (error)
                {
                    return new ToolResult(process.ExitCode, output.ToString(), error.ToString());
                }
            }
        }
    }
}
