using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Outpost.Deploy.Tests;

/// <summary>
/// The manifests run for real with <c>podman kube play</c>: HQ with its PostgreSQL, then a store that registers with it;
/// a sale made at the store reaches HQ once, a price published at HQ reaches the store.
/// </summary>
[Collection(Containers.Name)]
public sealed class KubePlayTests(Images images)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Hq_with_postgres_and_a_store_come_up_from_the_manifests_and_replicate_both_ways()
    {
        Assert.NotEmpty(images.OutpostDigest);
        foreach (var port in new[] { 5080, 5090, 5432 })
        {
            Assert.True(Free(port), $"The manifests under podman listen on 127.0.0.1:{port} (host networking), which something else holds: stop it and run again.");
        }

        var adminToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await using var hq = await KubePlay.StartAsync("overlays/podman-hq", $$"""
            images:
              - name: localhost/outpost
                newTag: test
              - name: localhost/outpost-postgres
                newTag: test
            patches:
              - target: {kind: Secret, name: outpost-central-secrets}
                patch: |-
                  - {op: replace, path: /stringData/admin-token, value: {{adminToken}}}
                  - {op: replace, path: /stringData/postgres, value: "Host=127.0.0.1;Port=5432;Database=outpost;Username=outpost;Password={{password}}"}
              - target: {kind: Secret, name: outpost-postgres}
                patch: |-
                  - {op: replace, path: /stringData/password, value: {{password}}}
            """);
        await Fleet.WaitReadyAsync("http://127.0.0.1:5080", TimeSpan.FromSeconds(120), hq.LogsAsync);
        using var hqAdmin = Fleet.Client("http://127.0.0.1:5080", adminToken);
        const string storeId = "store-201";
        var secret = await Fleet.RegisterStoreAsync(hqAdmin, storeId, "north");
        await Fleet.PublishPriceAsync(hqAdmin, Fleet.Cola, "Cola 1.5L", 1.50m);

        await using var store = await KubePlay.StartAsync("overlays/podman-store", $$"""
            images:
              - name: localhost/outpost
                newTag: test
            patches:
              - target: {kind: Secret, name: outpost-store-credentials}
                patch: |-
                  - {op: replace, path: /stringData/hq-secret, value: {{secret}}}
                  - {op: replace, path: /stringData/admin-token, value: {{adminToken}}}
              - target: {kind: ConfigMap, name: outpost-store-settings}
                patch: |-
                  - {op: replace, path: /data/OUTPOST_STORE_StoreId, value: {{storeId}}}
            """);
        await Fleet.WaitReadyAsync("http://127.0.0.1:5090", TimeSpan.FromSeconds(120), store.LogsAsync);
        using var storeAdmin = Fleet.Client("http://127.0.0.1:5090", adminToken);
        using var till = Fleet.Client("http://127.0.0.1:5090", await Fleet.EnrolAsync(storeAdmin, "till 1", "till"));
        await Fleet.WaitForPriceAsync(till, Fleet.Cola, 1.50m, TimeSpan.FromSeconds(60));

        // A sale at the store reaches HQ, once.
        var basket = await JsonAsync(await till.PostAsJsonAsync("api/baskets", new { staffId = "kube" }, Ct));
        var id = basket.GetProperty("id").GetString();
        await JsonAsync(await till.PostAsJsonAsync($"api/baskets/{id}/lines", new { code = Fleet.Cola, quantity = 2 }, Ct));
        await JsonAsync(await till.PostAsJsonAsync($"api/baskets/{id}/payments", new { method = "cash", amount = 5 }, Ct));
        await JsonAsync(await till.PostAsJsonAsync($"api/baskets/{id}/complete", new { idempotencyKey = "till-1:1" }, Ct));
        await JsonAsync(await till.PostAsJsonAsync($"api/baskets/{id}/complete", new { idempotencyKey = "till-1:1" }, Ct)); // a till's retry
        for (var i = 0; i < 600 && await Fleet.SalesAtHqAsync(hqAdmin, storeId) == 0; i++)
        {
            await Task.Delay(100, Ct);
        }

        await Task.Delay(2000, Ct); // time for a duplicate to arrive, if there were one
        Assert.Equal(1, await Fleet.SalesAtHqAsync(hqAdmin, storeId));

        // A price published at HQ reaches the store.
        await Fleet.PublishPriceAsync(hqAdmin, Fleet.Cola, "Cola 1.5L", 1.75m);
        await Fleet.WaitForPriceAsync(till, Fleet.Cola, 1.75m, TimeSpan.FromSeconds(60));

        // HQ lists the store as registered and seen.
        using var fleet = JsonDocument.Parse(await hqAdmin.GetStringAsync("admin/fleet", Ct));
        Assert.Contains(fleet.RootElement.EnumerateArray(), s => s.GetProperty("storeId").GetString() == storeId);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static bool Free(int port)
    {
        try
        {
            using var listener = new TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
