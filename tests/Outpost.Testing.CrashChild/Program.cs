// A child process for crash tests: opens a log, appends from several concurrent writers for ever, and
// prints "<seq> <run> <writer> <n>" on stdout after each append is acknowledged (durable). The test kills it
// with SIGKILL at random moments and checks that every acknowledged event is in the log.
using System.Globalization;
using System.Text;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Outpost.Testing.CrashChild <log path> <writers> <run id>");
    return 2;
}

var writers = int.Parse(args[1], CultureInfo.InvariantCulture);
var run = int.Parse(args[2], CultureInfo.InvariantCulture);
await using var log = SqliteEventLog.Open(new LogOptions { Path = args[0], NodeId = "crash-child" });
var output = new object();
var stdout = Console.Out;
Console.WriteLine("ready");

await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
{
    var pad = new string('p', 150);
    for (var n = 0; ; n++)
    {
        var payload = Encoding.UTF8.GetBytes($$"""{"run":{{run}},"w":{{w}},"n":{{n}},"pad":"{{pad}}"}""");
        var result = await log.AppendAsync(new NewEvent { Topic = "sales", Type = "SaleCompleted", Key = $"r{run}-w{w}-{n}", Payload = payload });
        lock (output)
        {
            stdout.WriteLine($"{result.Seq} {run} {w} {n}");
        }
    }
})));
return 0;
