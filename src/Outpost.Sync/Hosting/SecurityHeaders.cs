using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Outpost.Sync.Hosting;

/// <summary>
/// The headers every answer of a node carries, pages and API alike: a strict content security policy (scripts, styles,
/// connections only from the node itself; no inline script or style attribute; images also as data: URIs, for the
/// pairing QR code; no plugin, no base URI, forms only to the node; no framing by any site), no MIME sniffing, no
/// referrer, and the legacy framing header for old browsers.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The content security policy.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Adds the headers to every response.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            return next(context);
        });
}
