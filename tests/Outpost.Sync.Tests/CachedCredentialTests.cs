using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Outpost.Central.Stores;
using Outpost.Sync.Protocol;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>
/// HQ checks a store's credential from memory once it has read it; revoking or rotating it on any node still takes
/// effect at once on every node: the next request is refused, and a long poll already held ends with the refusal.
/// </summary>
public sealed class CachedCredentialTests(PostgresServer server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_credential_revoked_on_one_node_is_refused_by_both_and_ends_a_poll_held_on_the_other()
    {
        var database = await server.CreateDatabaseAsync(Ct);
        await using var a = await Cluster.StartAsync(database, configure: o => o.Sync.MaxLongPoll = TimeSpan.FromSeconds(60));
        await using var b = await Cluster.StartAsync(database, configure: o => o.Sync.MaxLongPoll = TimeSpan.FromSeconds(60));
        var s1 = await a.RegisterAsync("s1", "north");
        var credential = $"s1:{s1.Secret}";

        // Both nodes have checked (and so keep) the credential.
        Assert.Equal(HttpStatusCode.OK, (await DownAsync(a, credential, wait: 0)).Status);
        Assert.Equal(HttpStatusCode.OK, (await DownAsync(b, credential, wait: 0)).Status);

        // A poll held on B for up to a minute; revoked on A meanwhile.
        var held = DownAsync(b, credential, wait: 60_000);
        await Task.Delay(500, Ct);
        Assert.False(held.IsCompleted, "the poll was not held");
        (await a.Admin.PostAsync("admin/stores/s1/revoke", null, Ct)).EnsureSuccessStatusCode();

        // A's own check is refused at once; B's held poll ends with the refusal (a poll that merely timed out answers 200).
        var (status, body) = await DownAsync(a, credential, wait: 0);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("revoked", body, StringComparison.Ordinal);
        var ended = await held.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, ended.Status);
        Assert.Contains("revoked", ended.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await DownAsync(b, credential, wait: 0)).Status);

        // Rotated on B: the new secret works on A, the old one is refused on both.
        var rotated = (await (await b.Admin.PostAsync("admin/stores/s1/rotate", null, Ct)).Content.ReadFromJsonAsync<IssuedCredential>(Ct))!;
        Assert.Equal(HttpStatusCode.OK, (await DownAsync(a, $"s1:{rotated.Secret}", wait: 0)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await DownAsync(b, credential, wait: 0)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await DownAsync(a, credential, wait: 0)).Status);

        // And a store rotated while its poll is held on the other node is asked for its new credential.
        var heldAgain = DownAsync(b, $"s1:{rotated.Secret}", wait: 60_000);
        await Task.Delay(500, Ct);
        (await a.Admin.PostAsync("admin/stores/s1/rotate", null, Ct)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, (await heldAgain.WaitAsync(TimeSpan.FromSeconds(30), Ct)).Status);
    }

    private static async Task<(HttpStatusCode Status, string Body)> DownAsync(Cluster hq, string credential, int wait)
    {
        using var client = new HttpClient { BaseAddress = hq.HqAddress, Timeout = TimeSpan.FromSeconds(90) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        using var response = await client.GetAsync($"{SyncWire.DownPath.TrimStart('/')}?after=0&wait={wait}", Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }
}
