using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Outpost.Sync.Hosting;

/// <summary>
/// A request the server could not read (malformed JSON, a body too large, a wrong content type), said as a 4xx that
/// names what is wrong, by the store server and HQ alike. Endpoints throw these instead of answering a bare 400 because
/// the hosts set <c>RouteHandlerOptions.ThrowOnBadRequest</c>.
/// </summary>
public static class BadRequests
{
    /// <summary>
    /// The exception handler's options for a host: <paramref name="write"/> answers every error, and a bad request is
    /// not logged as the server's error (a client's malformed JSON is the client's problem; at a store it would also
    /// go up to HQ's fleet view as the store's error).
    /// </summary>
    public static ExceptionHandlerOptions Handler(RequestDelegate write) => new()
    {
        ExceptionHandler = write,
        SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException,
    };

    /// <summary>The status, title and detail of <paramref name="error"/> when it is a bad request, else null.</summary>
    /// <param name="error">What the exception handler caught.</param>
    /// <param name="tooLarge">What to say about a body larger than the server accepts.</param>
    public static (int Status, string Title, string Detail)? Describe(Exception? error, string tooLarge) => error switch
    {
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => (bad.StatusCode, "Request too large", tooLarge),
        BadHttpRequestException bad => (bad.StatusCode, "Bad request", (bad.InnerException?.Message ?? bad.Message).Split(" Path:", 2)[0]),
        _ => null,
    };
}
