using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Central.Rollouts;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>Releases at HQ: recorded by release admins only, for an image the registry holds at that digest, with known settings; audited.</summary>
public sealed class ReleaseTests
{
    private const string ReleaseToken = ReleaseHq.ReleaseToken;
    private const string OpsToken = ReleaseHq.OpsToken;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_release_admin_records_a_release_of_an_image_the_registry_holds_and_the_audit_trail_names_them()
    {
        await using var registry = await Registry.StartAsync();
        var digest = await registry.PutImageAsync("outpost", "1.0.1", "version 1.0.1");
        await using var cluster = await StartAsync(registry);
        using var releases = ReleaseHq.Client(cluster, ReleaseToken);

        using var created = await releases.PostAsJsonAsync("admin/releases", new
        {
            version = "1.0.1",
            image = $"{registry.Address}/outpost:1.0.1@{digest}",
            settings = new Dictionary<string, object> { ["Retail:Checkout:OfflineFloorLimit"] = 75 },
        }, Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var listed = Assert.Single((await releases.GetFromJsonAsync<List<ReleaseRecordedV1>>("admin/releases", Ct))!);
        Assert.Equal("1.0.1", listed.Version);
        Assert.Equal($"{registry.Address}/outpost:1.0.1@{digest}", listed.Image);
        Assert.Equal("75", listed.Settings["Retail:Checkout:OfflineFloorLimit"]);
        Assert.Equal("release", listed.RecordedBy);
        await WaitForAuditAsync(releases, "ReleaseRecorded", "1.0.1", "release");

        // A configuration-only release (same image, another floor limit) is a release too; the same request again is no new one.
        var configOnly = new { version = "1.0.1-config.1", image = listed.Image, settings = new Dictionary<string, object> { ["Retail:Checkout:OfflineFloorLimit"] = "100", ["Retail:Checkout:EventVersions"] = "Previous" } };
        Assert.Equal(HttpStatusCode.Created, (await releases.PostAsJsonAsync("admin/releases", configOnly, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await releases.PostAsJsonAsync("admin/releases", configOnly, Ct)).StatusCode);
        Assert.Equal(2, (await releases.GetFromJsonAsync<List<ReleaseRecordedV1>>("admin/releases", Ct))!.Count);
    }

    [Fact]
    public async Task A_release_that_is_not_an_admins_to_make_names_a_missing_image_or_an_unknown_setting_is_refused_saying_why_and_changes_nothing()
    {
        await using var registry = await Registry.StartAsync();
        var digest = await registry.PutImageAsync("outpost", "1.0.1", "version 1.0.1");
        var missing = "sha256:" + new string('0', 64);
        await using var cluster = await StartAsync(registry);
        using var releases = ReleaseHq.Client(cluster, ReleaseToken);
        using var ops = ReleaseHq.Client(cluster, OpsToken);
        var image = $"{registry.Address}/outpost@{digest}";
        Assert.Equal(HttpStatusCode.Created, (await releases.PostAsJsonAsync("admin/releases", new { version = "1.0.1", image }, Ct)).StatusCode);

        await Refused(ops, new { version = "1.0.2", image }, HttpStatusCode.Forbidden, "release admins");
        await Refused(releases, new { version = "1.0.2", image = $"{registry.Address}/outpost:1.0.2" }, HttpStatusCode.BadRequest, "not pinned by digest");
        await Refused(releases, new { version = "1.0.2", image = $"{registry.Address}/outpost@{missing}" }, HttpStatusCode.UnprocessableEntity, "holds no outpost@" + missing);
        await Refused(releases, new { version = "1.0.2", image = $"{registry.Address}/other@{digest}" }, HttpStatusCode.UnprocessableEntity, "holds no other@");
        await Refused(releases, new { version = "1.0.2", image, settings = new Dictionary<string, object> { ["Retail:Checkout:NoSuchThing"] = 1 } },
            HttpStatusCode.BadRequest, "'Retail:Checkout:NoSuchThing' is not a setting");
        await Refused(releases, new { version = "1.0.2", image, settings = new Dictionary<string, object> { ["Retail:Checkout:OfflineFloorLimit"] = "lots" } },
            HttpStatusCode.BadRequest, "takes a number");
        await Refused(releases, new { version = "1.0.2", image, settings = new Dictionary<string, object> { ["Retail:Checkout:EventVersions"] = "Oldest" } },
            HttpStatusCode.BadRequest, "takes one of Current, Previous");
        await Refused(releases, new { version = "1.0.2", image, settings = new Dictionary<string, object> { ["Retail:BasketsPath"] = "/tmp" } },
            HttpStatusCode.BadRequest, "not a setting a release can change");
        await Refused(releases, new { version = "one", image }, HttpStatusCode.BadRequest, "major.minor.patch");
        await Refused(releases, new { version = "1.0.1", image, settings = new Dictionary<string, object> { ["Retail:Checkout:OfflineFloorLimit"] = 1 } },
            HttpStatusCode.Conflict, "already recorded");
        await Refused(releases, new { version = "1.0.2", image = $"127.0.0.1:1/outpost@{digest}" }, HttpStatusCode.ServiceUnavailable, "cannot be reached");

        var listed = Assert.Single((await releases.GetFromJsonAsync<List<ReleaseRecordedV1>>("admin/releases", Ct))!);
        Assert.Equal("1.0.1", listed.Version);
    }

    private static async Task<Cluster> StartAsync(Registry registry) => await ReleaseHq.StartAsync(registry, configure: options => options.InsecureRegistries.Add("127.0.0.1:1"));

    private static Task Refused(HttpClient client, object body, HttpStatusCode status, string says) => ReleaseHq.RefusedAsync(client, "admin/releases", body, status, says);

    private static async Task WaitForAuditAsync(HttpClient admin, string type, string key, string actor)
    {
        for (var i = 0; i < 100; i++)
        {
            using var audit = JsonDocument.Parse(await admin.GetStringAsync("admin/audit", Ct));
            if (audit.RootElement.EnumerateArray().Any(e => e.GetProperty("type").GetString() == type && e.GetProperty("key").GetString() == key && e.GetProperty("actor").GetString() == actor))
            {
                return;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"the audit trail never listed {type} {key} by {actor}");
    }
}
