using System.Globalization;

namespace Outpost.Store.Tests;

/// <summary>Reads a store's SSE feed as a browser would, message by message, with a deadline on each.</summary>
internal sealed class FeedReader : IDisposable
{
    private readonly HttpClient _client;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private FeedReader(HttpClient client, HttpResponseMessage response, StreamReader reader)
    {
        _client = client;
        _response = response;
        _reader = reader;
    }

    public static async Task<FeedReader> OpenAsync(Uri address, string token, long? lastEventId)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/feed");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var stream = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        return new FeedReader(client, response, new StreamReader(stream));
    }

    public async Task<(string Id, string Event, string Data)> NextAsync(TimeSpan? timeout = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        string id = "", type = "message", data = "";
        for (var lines = 0; lines < 10_000; lines++)
        {
            var line = await _reader.ReadLineAsync(deadline.Token) ?? throw new EndOfStreamException("The feed closed.");
            if (line.Length == 0)
            {
                if (data.Length > 0 || id.Length > 0)
                {
                    return (id, type, data);
                }

                continue;
            }

            var (field, value) = line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? (line[..colon], line[(colon + 1)..].TrimStart()) : (line, "");
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data += value; break;
            }
        }

        throw new InvalidOperationException("No complete message in 10,000 lines.");
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
        _client.Dispose();
    }
}
