using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Central;
using Outpost.Core.Topics;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>An HQ with two named admins, one of them a release admin, that trusts a test registry over plain HTTP.</summary>
internal static class ReleaseHq
{
    public const string ReleaseToken = "release-admin-token";
    public const string OpsToken = "ops-token";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<Cluster> StartAsync(Registry registry, TopicCatalog? topics = null, Action<CentralOptions>? configure = null) =>
        Cluster.StartAsync(topics: topics, configure: options =>
        {
            options.AdminTokens["release"] = ReleaseToken;
            options.AdminTokens["ops"] = OpsToken;
            options.ReleaseAdmins.Add("release");
            options.InsecureRegistries.Add(registry.Address);
            configure?.Invoke(options);
        });

    public static HttpClient Client(Cluster cluster, string token)
    {
        var client = new HttpClient { BaseAddress = cluster.HqAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Posts <paramref name="body"/> and checks the refusal: its status and that its detail says <paramref name="says"/>.</summary>
    public static async Task RefusedAsync(HttpClient client, string path, object body, HttpStatusCode status, string says)
    {
        using var response = await client.PostAsJsonAsync(path, body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Contains(says, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
