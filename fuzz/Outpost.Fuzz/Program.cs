using Outpost.Fuzz;
using SharpFuzz;

// outpost-fuzz <target>                  run under afl-fuzz (SharpFuzz, out of process), input on stdin or a file
// outpost-fuzz <target> --replay PATH    run every file under PATH in this process; exit 1 on a finding
// outpost-fuzz --seeds DIR               write the seed inputs, one folder per target
if (args is ["--seeds", var seeds])
{
    foreach (var (target, name, bytes) in Targets.Seeds())
    {
        Directory.CreateDirectory(Path.Combine(seeds, target));
        File.WriteAllBytes(Path.Combine(seeds, target, name), bytes);
    }

    return 0;
}

if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: outpost-fuzz <{string.Join('|', Targets.All.Keys)}> [--replay PATH] | --seeds DIR");
    return 2;
}

if (args is [_, "--replay", var path, ..])
{
    // With --rate: replay the inputs again and again for a second, after a first pass, and print the steady rate.
    var rate = args is [_, _, _, "--rate"];
    var files = Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList() : [path];
    var findings = 0;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    foreach (var file in files)
    {
        try
        {
            run(File.ReadAllBytes(file));
        }
        catch (Exception ex)
        {
            findings++;
            Console.WriteLine($"{file}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    Console.WriteLine($"{args[0]}: {files.Count} inputs replayed, {findings} findings, in {clock.Elapsed.TotalMilliseconds:F0} ms");
    if (rate && findings == 0 && files.Count > 0)
    {
        var inputs = files.Select(File.ReadAllBytes).ToList();
        long runs = 0;
        clock.Restart();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            foreach (var input in inputs)
            {
                run(input);
                runs++;
            }
        }

        Console.WriteLine($"rate: {runs / clock.Elapsed.TotalSeconds:F0} a second");
    }

    return findings == 0 ? 0 : 1;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    run(memory.ToArray());
});
return 0;
