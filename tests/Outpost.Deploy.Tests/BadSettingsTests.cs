namespace Outpost.Deploy.Tests;

/// <summary>A container with bad configuration stops at once with one line naming the setting, never half-started.</summary>
[Collection(Containers.Name)]
public sealed class BadSettingsTests(Images images)
{
    public static TheoryData<string, string[], string, string> Cases => new()
    {
        { "no store id", ["-e", "OUTPOST_STORE_Region=north"], "store", "OUTPOST_STORE_StoreId" },
        { "HQ address not a URL", ["-e", "OUTPOST_STORE_StoreId=store-009", "-e", "OUTPOST_STORE_Central=hq.example.com", "-e", "OUTPOST_STORE_SECRET=s"], "store", "OUTPOST_STORE_Central" },
        { "HQ secret missing", ["-e", "OUTPOST_STORE_StoreId=store-009", "-e", "OUTPOST_STORE_Central=http://127.0.0.1:5080/"], "store", "OUTPOST_STORE_SECRET" },
        { "unknown time zone", ["-e", "OUTPOST_STORE_StoreId=store-009", "-e", "OUTPOST_STORE_TimeZone=Mars/Olympus"], "store", "OUTPOST_STORE_TimeZone" },
        { "business day starting past a day", ["-e", "OUTPOST_STORE_StoreId=store-009", "-e", "OUTPOST_STORE_BusinessDayStarts=1.02:00:00"], "store", "OUTPOST_STORE_BusinessDayStarts" },
        { "data directory not writable", ["-e", "OUTPOST_STORE_StoreId=store-009", "-v", "{root-owned}:/data"], "store", "OUTPOST_STORE_DataDirectory" },
        { "HQ on PostgreSQL without a connection string", ["-e", "OUTPOST_DATABASE=postgres"], "central", "OUTPOST_POSTGRES" },
        { "HQ's data directory not writable", ["-v", "{root-owned}:/data"], "central", "--data" },
        { "a device offline time below a heartbeat's minute", ["-e", "OUTPOST_DEVICE_OFFLINE_MINUTES=1"], "central", "--device-offline-minutes" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_container_with_bad_settings_exits_non_zero_with_one_line_naming_the_setting(string what, string[] settings, string role, string named)
    {
        Assert.NotEmpty(images.OutpostDigest);
        var rootOwned = Directory.CreateTempSubdirectory("outpost-root-owned-").FullName; // 0700 root: uid 10001 cannot write
        var arguments = new List<string> { "run", "--rm", "--read-only", "--network=host" };
        arguments.AddRange(settings.Select(s => s.Replace("{root-owned}", rootOwned, StringComparison.Ordinal)));
        arguments.Add(Images.Outpost);
        arguments.Add(role);
        if (role == "central")
        {
            arguments.AddRange(["--data", "/data", "--urls", "http://127.0.0.1:0"]);
        }

        var result = await Shell.RunAsync("podman", arguments, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 2, $"{what}: exit code {result.ExitCode}, output:{Environment.NewLine}{result.All}");
        var lines = result.All.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", line, StringComparison.Ordinal);
        Directory.Delete(rootOwned);
    }
}
