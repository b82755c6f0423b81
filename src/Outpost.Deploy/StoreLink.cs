using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Outpost.Sync.Hosting;
using Outpost.Sync.Rollouts;

namespace Outpost.Deploy;

/// <summary>What became of a report the agent sent to the store.</summary>
public enum ReportOutcome
{
    /// <summary>The store took it (it goes up to HQ with the store's other events).</summary>
    Taken,

    /// <summary>The store refused it for good (stale: the store is asked to run another release now); it is dropped.</summary>
    Refused,

    /// <summary>The store could not be reached; the report waits for the next try.</summary>
    Unreachable,
}

/// <summary>What became of settings sent to the store to apply while it runs.</summary>
public enum LiveOutcome
{
    /// <summary>In force now, no restart.</summary>
    Applied,

    /// <summary>Valid, but read at start-up only: the runtime must restart the store server.</summary>
    NeedsRestart,

    /// <summary>Refused as invalid (the detail says why).</summary>
    Invalid,

    /// <summary>The store could not be reached.</summary>
    Unreachable,
}

/// <summary>The agent's side of the store's <c>/api/deploy</c>, with the agent's device token.</summary>
public sealed class StoreLink(HttpClient http, string token)
{
    /// <summary>What the store holds of its rollout; null when the store cannot be reached (it may be the one being replaced).</summary>
    public async Task<DesiredResponse?> DesiredAsync(CancellationToken cancellationToken) =>
        await GetAsync("api/deploy/desired", DeployContractJsonContext.Default.DesiredResponse, cancellationToken);

    /// <summary>The store server process's health; null when it does not answer.</summary>
    public async Task<StoreHealthResponse?> HealthAsync(CancellationToken cancellationToken) =>
        await GetAsync("api/deploy/health", DeployContractJsonContext.Default.StoreHealthResponse, cancellationToken);

    /// <summary>The store server's own metrics (its requests and server errors among them); null when it does not answer.</summary>
    public async Task<ServerMetrics?> MetricsAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ServerMetrics.Parse(await http.GetStringAsync("metrics", cancellationToken));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Sends one report.</summary>
    public async Task<(ReportOutcome Outcome, string Detail)> ReportAsync(ProgressRequest report, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/deploy/progress", JsonContent.Create(report, DeployContractJsonContext.Default.ProgressRequest), cancellationToken);
        return status switch
        {
            null => (ReportOutcome.Unreachable, body),
            >= 200 and < 300 => (ReportOutcome.Taken, ""),
            409 or 400 => (ReportOutcome.Refused, body),
            _ => (ReportOutcome.Unreachable, $"{status} {body}"),
        };
    }

    /// <summary>Asks the store to put a release's settings in force without a restart.</summary>
    public async Task<(LiveOutcome Outcome, string Detail)> ApplySettingsAsync(string version, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var content = JsonContent.Create(new LiveSettingsRequest(version, new Dictionary<string, string>(settings)), DeployContractJsonContext.Default.LiveSettingsRequest);
        var (status, body) = await SendAsync(HttpMethod.Put, "api/deploy/settings", content, cancellationToken);
        return status switch
        {
            null => (LiveOutcome.Unreachable, body),
            >= 200 and < 300 => (LiveOutcome.Applied, ""),
            409 => (LiveOutcome.NeedsRestart, body),
            400 => (LiveOutcome.Invalid, body),
            _ => (LiveOutcome.Unreachable, $"{status} {body}"),
        };
    }

    // The status and body of the store's answer; a null status (and why) when it could not be reached.
    private async Task<(int? Status, string Body)> SendAsync(HttpMethod method, string path, HttpContent content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, ex.Message);
        }
    }

    private async Task<T?> GetAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new InvalidOperationException($"The store refuses the agent's token ({(int)response.StatusCode}): enrol a device with the role 'agent' at the back office and give its token.");
            }

            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync(type, cancellationToken) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
