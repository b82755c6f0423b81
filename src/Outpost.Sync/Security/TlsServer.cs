using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Outpost.Sync.Security;

/// <summary>
/// A node's HTTPS: Kestrel listens on each <c>https://</c> address with the certificate of a <see cref="PemCertificate"/>
/// (renewed files are used from the next handshake on, with no restart), and asks clients for a certificate when
/// <c>requestClientCertificates</c> (mutual TLS: the handshake accepts any, or none; the endpoint decides, so a refusal
/// can say why instead of cutting the connection). <c>http://</c> addresses stay plain (a probe port inside the pod).
/// </summary>
public static class TlsServer
{
    /// <summary>Listens on <paramref name="urls"/> (';'-separated) with <paramref name="certificate"/> on the https ones.</summary>
    public static void Listen(IWebHostBuilder host, string urls, PemCertificate certificate, bool requestClientCertificates)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(urls);
        var addresses = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList();

        // The addresses are bound here, not from the URLs setting (which would want a default certificate).
        host.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        host.ConfigureKestrel(kestrel =>
        {
            foreach (var address in addresses)
            {
                void Configure(ListenOptions listen)
                {
                    if (address.Scheme != Uri.UriSchemeHttps)
                    {
                        return;
                    }

                    listen.Protocols = HttpProtocols.Http1AndHttp2;
#pragma warning disable CA5359 // see AcceptForTheEndpoint
                    listen.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = certificate.Context,
                            ClientCertificateRequired = requestClientCertificates,
                            RemoteCertificateValidationCallback = requestClientCertificates ? AcceptForTheEndpoint : null,
                            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                        }),
                    });
#pragma warning restore CA5359
                }

                switch (address.Host)
                {
                    case "localhost":
                        kestrel.ListenLocalhost(address.Port, Configure);
                        break;
                    case "*" or "+" or "0.0.0.0" or "[::]":
                        kestrel.ListenAnyIP(address.Port, Configure);
                        break;
                    default:
                        kestrel.Listen(IPAddress.Parse(address.Host.Trim('[', ']')), address.Port, Configure);
                        break;
                }
            }
        });
    }

    // A client certificate is checked by the endpoint that knows which store the request claims to be
    // (StoreCertificates), so that a refusal is an answer saying why, recorded on the fleet page.
    private static bool AcceptForTheEndpoint(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate,
        System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors) => true;
}
