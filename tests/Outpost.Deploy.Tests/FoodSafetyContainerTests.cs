using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Outpost.Deploy.Tests;

/// <summary>
/// The food-safety service as it ships: the outpost image with the command <c>food-safety</c>, read-only root, its own
/// data volume, beside a store container; it follows the store's event API, answers its probes, and raises an alarm
/// the back office sees.
/// </summary>
[Collection(Containers.Name)]
public sealed class FoodSafetyContainerTests(Images images)
{
    private const string AdminToken = "food-safety-test-admin";

    /// <summary>When the probe reads fridge-9 at 8 °C, in minutes: out of range for 16 minutes by the last.</summary>
    private static readonly int[] Minutes = [0, 10, 16];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_image_runs_the_food_safety_service_beside_the_store_and_its_alarm_reaches_the_back_office()
    {
        Assert.NotEmpty(images.OutpostDigest);
        var storeUrl = $"http://127.0.0.1:{Fleet.FreePort()}";
        var healthUrl = $"http://127.0.0.1:{Fleet.FreePort()}";
        await using var store = await Container.RunAsync("outpost-test-fs-store",
            ["-e", "OUTPOST_STORE_StoreId=store-301", "-e", $"OUTPOST_STORE_AdminToken={AdminToken}", "-e", $"OUTPOST_STORE_Urls={storeUrl}"], "store");
        await Fleet.WaitReadyAsync(storeUrl, TimeSpan.FromSeconds(60), store.LogsAsync);
        using var admin = Fleet.Client(storeUrl, AdminToken);
        var foodSafety = await EnrolAsync(admin, """{"name":"food safety","publish":["alarms","haccp"],"read":["equipment"]}""");
        var probe = await EnrolAsync(admin, """{"name":"fridge probe","publish":["equipment"],"read":[]}""");

        await using var service = await Container.RunAsync("outpost-test-food-safety", ["-e", $"OUTPOST_FOOD_SAFETY_TOKEN={foodSafety}"],
            "food-safety", "--store", storeUrl, "--data", "/data/food-safety", "--health-urls", healthUrl);
        await Fleet.WaitReadyAsync(healthUrl, TimeSpan.FromSeconds(60), service.LogsAsync);

        // A probe (here a service of its own; in a store, the MQTT bridge) reports fridge-9 at 8 °C for 16 minutes.
        using var reporter = Fleet.Client(storeUrl, probe);
        var at = new DateTimeOffset(2026, 12, 8, 6, 0, 0, TimeSpan.Zero);
        var batch = JsonSerializer.Serialize(new
        {
            producer = "probe",
            events = Minutes.Select((minutes, i) => new
            {
                seq = i + 1, topic = "equipment", type = "EquipmentReading", key = "fridge-9",
                payload = new { device = "fridge-9", mqttTopic = "kitchen/fridge-9/temperature", messageId = $"m{i}", receivedAt = at.AddMinutes(minutes), payload = new { celsius = 8.0m } },
            }),
        });
        using (var published = await reporter.PostAsync("api/events", new StringContent(batch, Encoding.UTF8, "application/json"), Ct))
        {
            Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync(Ct));
        }

        var open = await admin.GetFromJsonAsync<JsonElement>("api/alarms", Ct);
        for (var i = 0; i < 300 && open.GetArrayLength() == 0; i++)
        {
            await Task.Delay(100, Ct);
            open = await admin.GetFromJsonAsync<JsonElement>("api/alarms", Ct);
        }

        Assert.True(open.GetArrayLength() == 1, "no alarm in the back office after 30 s: " + await service.LogsAsync());
        Assert.Equal(("food-safety", "fridge-9"), (open[0].GetProperty("source").GetString(), open[0].GetProperty("subject").GetString()));
        using var health = Fleet.Client(healthUrl);
        Assert.StartsWith("ready: applied through ", await health.GetStringAsync("health/ready", Ct), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(service.DataDirectory, "food-safety", "food-safety.db")), "the service keeps its data on its volume");
    }

    private static async Task<string> EnrolAsync(HttpClient admin, string grant)
    {
        using var response = await admin.PostAsync("api/services", new StringContent(grant, Encoding.UTF8, "application/json"), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }
}
