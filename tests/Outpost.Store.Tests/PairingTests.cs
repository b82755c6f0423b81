using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Store.Devices;

namespace Outpost.Store.Tests;

/// <summary>
/// Devices are paired, not handed tokens in addresses: a short-lived single-use code from the back office becomes an
/// HttpOnly cookie; the cookie never works for a cross-site change; revocation ends a live feed at once; guessing codes
/// or credentials from one address is stopped with 429 and Retry-After; every step is in the security audit.
/// </summary>
public sealed class PairingTests : IAsyncLifetime
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _clock = StoreServer.Clock();
    private StoreServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await StoreServer.StartAsync(_clock);

    public async ValueTask DisposeAsync() => await _server.DisposeAndDeleteAsync();

    [Fact]
    public async Task A_code_pairs_a_page_once_into_an_httponly_cookie_and_the_page_then_works_without_any_token()
    {
        var code = await CodeAsync("Till 2", "till");
        Assert.Matches(@"^\d{4}-\d{4}$", code.GetProperty("code").GetString());
        Assert.EndsWith("/#pair=" + code.GetProperty("code").GetString(), code.GetProperty("pairUrl").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("<svg", code.GetProperty("qrSvg").GetString(), StringComparison.Ordinal);
        Assert.Equal(_clock.GetUtcNow() + DevicePairing.Lifetime, code.GetProperty("expiresAt").GetDateTimeOffset());

        var (page, cookies) = NewPage();
        using var paired = await page.PostAsJsonAsync("/api/pair", new { code = code.GetProperty("code").GetString() }, Ct);
        Assert.Equal(HttpStatusCode.OK, paired.StatusCode);
        var cookie = Assert.Single(paired.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(DeviceAuthenticationHandler.CookieName + "=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var body = await paired.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(("till", "till.html"), (body.GetProperty("device").GetProperty("role").GetString(), body.GetProperty("page").GetString()));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("token").ValueKind); // a page never sees its credential

        // The page now works on its cookie alone.
        var me = await page.GetFromJsonAsync<JsonElement>("/api/whoami", Ct);
        Assert.Equal("Till 2", me.GetProperty("name").GetString());
        using var basket = await SendAsync(page, HttpMethod.Post, "/api/baskets", new { }, fromPage: true);
        Assert.Equal(HttpStatusCode.Created, basket.StatusCode);

        // Once only.
        var (other, _) = NewPage();
        using var again = await other.PostAsJsonAsync("/api/pair", new { code = code.GetProperty("code").GetString() }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("unknown, was used already, or has expired", await again.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Single(cookies.GetCookies(_server.Address), c => c.Name == DeviceAuthenticationHandler.CookieName && c.HttpOnly);
    }

    [Fact]
    public async Task A_code_expires_a_device_that_is_not_a_browser_gets_its_token_in_the_body_and_bad_requests_change_nothing()
    {
        var late = (await CodeAsync("Kiosk 1", "kiosk")).GetProperty("code").GetString();
        _clock.Advance(DevicePairing.Lifetime + TimeSpan.FromSeconds(1));
        var (page, _) = NewPage();
        Assert.Equal(HttpStatusCode.BadRequest, (await page.PostAsJsonAsync("/api/pair", new { code = late }, Ct)).StatusCode);

        var agent = (await CodeAsync("Deploy agent", "agent", minutes: 60)).GetProperty("code").GetString();
        _clock.Advance(TimeSpan.FromMinutes(59));
        using var paired = await page.PostAsJsonAsync("/api/pair", new { code = agent!.Replace("-", " ", StringComparison.Ordinal), credential = "body" }, Ct);
        Assert.Equal(HttpStatusCode.OK, paired.StatusCode);
        Assert.False(paired.Headers.Contains("Set-Cookie"));
        var token = (await paired.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString();
        using var asAgent = _server.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await asAgent.GetAsync("/api/deploy/desired", Ct)).StatusCode);

        using var admin = _server.Client();
        foreach (var (body, message) in new (object, string)[]
        {
            (new { name = "x", role = "pilot" }, "'pilot' is not a device role"),
            (new { name = "", role = "till" }, "1 to 64 characters"),
            (new { name = "x", role = "till", minutes = 120 }, "1 to 60 minutes"),
        })
        {
            using var refused = await admin.PostAsJsonAsync("/api/devices/pairings", body, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains(message, await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        var (till, _, _) = await _server.DeviceAsync("till");
        Assert.Equal(HttpStatusCode.Forbidden, (await till.PostAsJsonAsync("/api/devices/pairings", new { name = "x", role = "till" }, Ct)).StatusCode);
        var code = (await CodeAsync("Till 3", "till")).GetProperty("code").GetString();
        using var wrongKind = await page.PostAsJsonAsync("/api/pair", new { code, credential = "url" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, wrongKind.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await page.PostAsJsonAsync("/api/pair", new { code }, Ct)).StatusCode); // the refused request did not use the code up
    }

    [Fact]
    public async Task The_cookie_is_refused_for_a_cross_site_change_and_a_credential_in_the_address_is_not_accepted()
    {
        var (page, _) = await PairedPageAsync("till");
        using var crossSite = await SendAsync(page, HttpMethod.Post, "/api/baskets", new { }, fromPage: false);
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
        Assert.Contains("Cross-site request refused", await crossSite.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await page.GetAsync("/api/menu", Ct)).StatusCode); // reading is not a change

        var (_, _, token) = await _server.DeviceAsync("till");
        using var anonymous = _server.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/menu?access_token=" + token, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/feed?access_token=" + token, Ct)).StatusCode);
    }

    [Fact]
    public async Task Revoking_a_paired_device_ends_its_live_feed_at_once_and_its_cookie_stops_working()
    {
        var (page, _) = await PairedPageAsync("signage");
        var id = (await page.GetFromJsonAsync<JsonElement>("/api/whoami", Ct)).GetProperty("deviceId").GetString();
        using var feed = await page.GetAsync("/api/feed", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
        await using var stream = await feed.Content.ReadAsStreamAsync(Ct);
        var reader = new StreamReader(stream);
        Assert.StartsWith("event:", await reader.ReadLineAsync(Ct), StringComparison.Ordinal); // the greeting

        using var admin = _server.Client();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/devices/" + id, Ct)).StatusCode);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        ended.CancelAfter(TimeSpan.FromSeconds(10));
        string? line;
        do
        {
            line = await reader.ReadLineAsync(ended.Token);
        }
        while (line is not null);

        Assert.False(ended.IsCancellationRequested, "the revoked device's feed stayed open");
        Assert.Equal(HttpStatusCode.Unauthorized, (await page.GetAsync("/api/menu", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await page.GetAsync("/api/feed", Ct)).StatusCode);
    }

    [Fact]
    public async Task Guessing_codes_or_credentials_from_one_address_is_stopped_with_429_and_every_step_is_audited()
    {
        var real = (await CodeAsync("Till 9", "till")).GetProperty("code").GetString();
        var (page, _) = NewPage();
        for (var i = 0; i < FailureLimiter.MaxFailures - 2; i++)
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await page.PostAsJsonAsync("/api/pair", new { code = $"0000-{i:D4}" }, Ct)).StatusCode);
        }

        using (var guess = _server.Client("not-a-device-token"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync("/api/menu", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync("/api/menu", Ct)).StatusCode);
            using var blocked = await guess.GetAsync("/api/menu", Ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
            Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }

        // Blocked, the right code is refused too.
        using var refused = await page.PostAsJsonAsync("/api/pair", new { code = real }, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("try again in", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // After the window the address may try again, and the code (not used up by the refusal) still pairs.
        _clock.Advance(FailureLimiter.Window);
        Assert.Equal(HttpStatusCode.OK, (await page.PostAsJsonAsync("/api/pair", new { code = real }, Ct)).StatusCode);

        var audit = (await _server.Log.ReadAllAsync(new ReadFilter { Topics = [DevicePairing.AuditTopic] }, cancellationToken: Ct))
            .Select(e => JsonSerializer.Deserialize(e.Payload.Span, Outpost.Retail.Telemetry.TelemetryJsonContext.Default.SecurityAuditV1)!).ToList();
        Assert.Equal(FailureLimiter.MaxFailures - 2, audit.Count(a => a.Action == "PairingFailed"));
        Assert.Equal(2, audit.Count(a => a.Action == "SignInFailed"));
        Assert.Contains(audit, a => a.Action == "DevicePaired" && a.Detail.Contains("Till 9", StringComparison.Ordinal));
        Assert.All(audit.Where(a => a.Action != "PairingCreated"), a => Assert.Equal("127.0.0.1", a.Address));
        Assert.DoesNotContain(audit, a => a.Detail.Contains(real!, StringComparison.Ordinal)); // a code is never written down
    }

    private async Task<JsonElement> CodeAsync(string name, string role, int? minutes = null)
    {
        using var admin = _server.Client();
        using var response = await admin.PostAsJsonAsync("/api/devices/pairings", new { name, role, minutes }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private (HttpClient Page, CookieContainer Cookies) NewPage()
    {
        var cookies = new CookieContainer();
        return (new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = _server.Address, Timeout = TimeSpan.FromSeconds(30) }, cookies);
    }

    private async Task<(HttpClient Page, CookieContainer Cookies)> PairedPageAsync(string role)
    {
        var code = (await CodeAsync(role + " page", role)).GetProperty("code").GetString();
        var (page, cookies) = NewPage();
        (await page.PostAsJsonAsync("/api/pair", new { code }, Ct)).EnsureSuccessStatusCode();
        return (page, cookies);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient page, HttpMethod method, string path, object body, bool fromPage)
    {
        var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        if (fromPage)
        {
            request.Headers.Add(DeviceAuthenticationHandler.RequestHeader, "1");
        }

        return page.SendAsync(request, Ct);
    }
}
