using System.Net;
using System.Net.Http.Headers;

namespace Outpost.Sync.Rollouts;

/// <summary>What a registry said of an image reference.</summary>
public enum ImageCheck
{
    /// <summary>The registry holds a manifest with exactly this digest.</summary>
    Found,

    /// <summary>The registry answered, and holds no such manifest.</summary>
    NotFound,

    /// <summary>The registry answered with a manifest whose digest is not the one asked for.</summary>
    DigestMismatch,

    /// <summary>The registry wants credentials this node does not have.</summary>
    Unauthorized,

    /// <summary>The registry could not be reached or answered with an error.</summary>
    Unreachable,
}

/// <summary>
/// Asks an OCI registry (the distribution API, <c>/v2/</c>) whether it holds an image manifest, by digest, without
/// downloading it: <c>HEAD /v2/&lt;repository&gt;/manifests/&lt;digest&gt;</c>. Registries named in
/// <paramref name="insecureRegistries"/> are spoken to over plain HTTP (a registry on the same machine or a lab's);
/// every other over HTTPS.
/// </summary>
public sealed class RegistryClient(HttpClient http, IReadOnlyCollection<string> insecureRegistries)
{
    private static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    /// <summary>Whether the registry holds <paramref name="image"/>'s manifest, and why not when it does not.</summary>
    public async Task<(ImageCheck Result, string Detail)> CheckAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var scheme = insecureRegistries.Contains(image.Registry, StringComparer.OrdinalIgnoreCase) ? "http" : "https";
        var url = new Uri($"{scheme}://{image.Registry}/v2/{image.Repository}/manifests/{image.Digest}");
        using var request = new HttpRequestMessage(HttpMethod.Head, url);
        foreach (var type in ManifestTypes)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var served = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
            return response.StatusCode switch
            {
                HttpStatusCode.OK when served is null || served == image.Digest => (ImageCheck.Found, $"{image.Registry} holds {image.Repository}@{image.Digest}"),
                HttpStatusCode.OK => (ImageCheck.DigestMismatch, $"{image.Registry} served {image.Repository} with digest {served}, not {image.Digest}"),
                HttpStatusCode.NotFound => (ImageCheck.NotFound, $"{image.Registry} holds no {image.Repository}@{image.Digest}"),
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => (ImageCheck.Unauthorized, $"{image.Registry} asks for credentials to read {image.Repository}"),
                _ => (ImageCheck.Unreachable, $"{image.Registry} answered {(int)response.StatusCode} for {image.Repository}@{image.Digest}"),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (ImageCheck.Unreachable, $"{url.GetLeftPart(UriPartial.Authority)} cannot be reached: {ex.Message}");
        }
    }
}
