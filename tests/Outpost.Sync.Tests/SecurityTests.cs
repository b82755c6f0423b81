using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Outpost.Central.Stores;
using Outpost.Core.Events;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Tests;

/// <summary>Run against HQ on SQLite and on PostgreSQL: the same behaviour on both.</summary>
public abstract class SecurityTests
{
    /// <summary>A fresh HQ database: null for SQLite, or a PostgreSQL connection string.</summary>
    protected abstract Task<string?> HqDatabaseAsync();

    private async Task<Cluster> StartClusterAsync() => await Cluster.StartAsync(await HqDatabaseAsync());

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StoredEvent Event(string origin, long originSeq, string topic = "sales") => new()
    {
        Seq = originSeq,
        Topic = topic,
        Type = "SaleCompleted",
        Version = 1,
        Key = $"b{originSeq}",
        Scope = Scope.Store(origin),
        Origin = new EventOrigin(NodeId.Parse(origin), originSeq, HlcTimestamp.From(1_790_000_000_000, 0)),
        Payload = Encoding.UTF8.GetBytes("""{"total":"3.00"}"""),
    };

    private static async Task<HttpResponseMessage> PostAsync(Cluster cluster, string? credential, byte[] body, string coding = "identity", string mediaType = EventBatchCodec.MediaType)
    {
        using var http = new HttpClient { BaseAddress = cluster.HqAddress };
        using var content = new ByteArrayContent(WireCompression.Compress(body, coding));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        if (coding != "identity")
        {
            content.Headers.ContentEncoding.Add(coding);
        }

        if (credential is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        // Expect: 100-continue lets HQ refuse an oversized body before it is sent, as a careful client does.
        http.DefaultRequestHeaders.ExpectContinue = true;
        return await http.PostAsync(SyncWire.UpPath, content, Ct);
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetDownAsync(Cluster cluster, string? credential, string query = "?after=0&wait=0")
    {
        using var http = new HttpClient { BaseAddress = cluster.HqAddress };
        if (credential is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        using var response = await http.GetAsync(SyncWire.DownPath + query, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string because)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Contains(because, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_batch_is_stored_and_a_replay_of_it_is_harmless()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var batch = EventBatchCodec.Encode([Event("s1", 1), Event("s1", 2)]);

        using var first = await PostAsync(cluster, $"s1:{s1.Secret}", batch, "zstd");
        using var replay = await PostAsync(cluster, $"s1:{s1.Secret}", batch, "gzip");

        var ack = await first.Content.ReadFromJsonAsync(SyncJsonContext.Default.UpAck, Ct);
        var again = await replay.Content.ReadFromJsonAsync(SyncJsonContext.Default.UpAck, Ct);
        Assert.Equal(new UpAck(2, 0, 2, 2), ack);
        Assert.Equal(new UpAck(0, 2, 2, 2), again);
        Assert.Equal(2, (await cluster.HqEventsFromAsync("s1")).Count);
    }

    [Fact]
    public async Task No_credential_or_a_wrong_secret_is_refused_with_401_and_nothing_applied()
    {
        await using var cluster = await StartClusterAsync();
        await cluster.RegisterAsync("s1", "north");
        var batch = EventBatchCodec.Encode([Event("s1", 1)]);

        using var none = await PostAsync(cluster, null, batch);
        using var wrong = await PostAsync(cluster, "s1:not-the-secret", batch);
        using var unknown = await PostAsync(cluster, "s9:whatever", batch);

        await AssertRefusedAsync(none, HttpStatusCode.Unauthorized, "Authorization: Bearer <store id>:<secret>");
        await AssertRefusedAsync(wrong, HttpStatusCode.Unauthorized, "unknown or the secret is wrong");
        await AssertRefusedAsync(unknown, HttpStatusCode.Unauthorized, "unknown or the secret is wrong");
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetDownAsync(cluster, "s1:not-the-secret")).Status);
    }

    [Fact]
    public async Task A_revoked_credential_is_refused_at_once_and_a_rotated_one_replaces_it()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        (await cluster.Admin.PostAsync("admin/stores/s1/revoke", null, Ct)).EnsureSuccessStatusCode();

        using var revoked = await PostAsync(cluster, $"s1:{s1.Secret}", EventBatchCodec.Encode([Event("s1", 1)]));
        var rotated = (await (await cluster.Admin.PostAsync("admin/stores/s1/rotate", null, Ct)).Content.ReadFromJsonAsync<IssuedCredential>(Ct))!;
        using var old = await PostAsync(cluster, $"s1:{s1.Secret}", EventBatchCodec.Encode([Event("s1", 1)]));
        using var renewed = await PostAsync(cluster, $"s1:{rotated.Secret}", EventBatchCodec.Encode([Event("s1", 1)]));

        await AssertRefusedAsync(revoked, HttpStatusCode.Forbidden, "revoked");
        await AssertRefusedAsync(old, HttpStatusCode.Unauthorized, "secret is wrong");
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.Single(await cluster.HqEventsFromAsync("s1"));
    }

    [Fact]
    public async Task A_batch_with_another_stores_origin_is_refused_whole_with_403()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        await cluster.RegisterAsync("s2", "north");

        using var forged = await PostAsync(cluster, $"s1:{s1.Secret}", EventBatchCodec.Encode([Event("s1", 1), Event("s2", 1)]));

        await AssertRefusedAsync(forged, HttpStatusCode.Forbidden, "a store sends only its own events");
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
        Assert.Empty(await cluster.HqEventsFromAsync("s2"));
    }

    [Fact]
    public async Task A_store_may_not_write_a_topic_only_hq_writes()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");

        using var response = await PostAsync(cluster, $"s1:{s1.Secret}", EventBatchCodec.Encode([Event("s1", 1, topic: "prices")]));

        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "which only HQ writes");
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
    }

    [Fact]
    public async Task A_store_cannot_read_another_stores_feed()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        await cluster.RegisterAsync("s2", "south");

        var (status, body) = await GetDownAsync(cluster, $"s1:{s1.Secret}", "?after=0&wait=0&store=s2");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("cannot read store 's2''s feed", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupted_batch_is_refused_with_400_and_nothing_applied()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var batch = EventBatchCodec.Encode([Event("s1", 1), Event("s1", 2)]);
        batch[20] ^= 0x10;

        using var response = await PostAsync(cluster, $"s1:{s1.Secret}", batch);

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "checksum does not match");
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
    }

    [Fact]
    public async Task A_truncated_or_foreign_body_is_refused_with_400()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var batch = EventBatchCodec.Encode([Event("s1", 1), Event("s1", 2)]);

        using var truncated = await PostAsync(cluster, $"s1:{s1.Secret}", batch[..(batch.Length / 2)]);
        using var json = await PostAsync(cluster, $"s1:{s1.Secret}", Encoding.UTF8.GetBytes("""{"events":[]}"""));
        using var newer = await PostAsync(cluster, $"s1:{s1.Secret}", [.. "OPB3"u8, .. batch[4..]]);
        using var wrongType = await PostAsync(cluster, $"s1:{s1.Secret}", batch, mediaType: "application/json");

        await AssertRefusedAsync(truncated, HttpStatusCode.BadRequest, "truncated");
        await AssertRefusedAsync(json, HttpStatusCode.BadRequest, "not an Outpost batch");
        await AssertRefusedAsync(newer, HttpStatusCode.BadRequest, "'OPB3' is not supported");
        await AssertRefusedAsync(wrongType, HttpStatusCode.UnsupportedMediaType, EventBatchCodec.MediaType);
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
    }

    [Fact]
    public async Task An_oversized_batch_is_refused_with_413_and_nothing_applied()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var random = new Random(7);
        var noise = new byte[5 * 1024 * 1024];
        random.NextBytes(noise);

        using var response = await PostAsync(cluster, $"s1:{s1.Secret}", noise);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
    }

    [Fact]
    public async Task An_invalid_event_inside_a_valid_batch_is_refused_naming_it()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var bad = Event("s1", 2) with { Payload = Encoding.UTF8.GetBytes("{not json") };

        using var response = await PostAsync(cluster, $"s1:{s1.Secret}", EventBatchCodec.Encode([Event("s1", 1), bad]));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "Event 1 of the batch");
        Assert.Empty(await cluster.HqEventsFromAsync("s1"));
    }

    [Fact]
    public async Task A_bad_down_query_is_refused_with_400_saying_what_is_allowed()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");

        var (status, body) = await GetDownAsync(cluster, $"s1:{s1.Secret}", "?after=-5");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("after=<HQ log position", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_api_refuses_requests_without_the_admin_token()
    {
        await using var cluster = await StartClusterAsync();
        using var anonymous = new HttpClient { BaseAddress = cluster.HqAddress };

        using var response = await anonymous.PostAsJsonAsync("admin/stores", new { storeId = "s1", region = "north" }, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await (await cluster.Admin.GetAsync("admin/stores", Ct)).Content.ReadFromJsonAsync<List<StoreRecord>>(Ct) ?? []);
    }

    [Fact]
    public async Task A_refused_batch_puts_the_link_in_an_error_state_with_the_reason()
    {
        await using var cluster = await StartClusterAsync();
        var s1 = await cluster.RegisterAsync("s1", "north");
        var store = await cluster.StartStoreAsync("s1", "north", secret: s1.Secret);
        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.State == Agent.ConnectivityState.Online), TimeSpan.FromSeconds(30)));
        (await cluster.Admin.PostAsync("admin/stores/s1/revoke", null, Ct)).EnsureSuccessStatusCode();

        await store.Log.AppendAsync(Cluster.Sale("after-revoke"), Ct);

        Assert.True(await Cluster.EventuallyAsync(() => Task.FromResult(store.Connectivity.Current.LastError?.Contains("revoked", StringComparison.Ordinal) == true), TimeSpan.FromSeconds(30)),
            $"state: {store.Connectivity.Current}");
        Assert.NotEqual(Agent.ConnectivityState.Online, store.Connectivity.Current.State);
    }
}

public sealed class SecurityTestsOnSqlite : SecurityTests
{
    protected override Task<string?> HqDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class SecurityTestsOnPostgres(Outpost.Testing.PostgresServer server) : SecurityTests
{
    protected override async Task<string?> HqDatabaseAsync() => await server.CreateDatabaseAsync(TestContext.Current.CancellationToken);
}
