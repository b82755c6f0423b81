using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Outpost.Core.Diagnostics;

namespace Outpost.Sync.Hosting;

/// <summary>
/// Tracing of a node (store server or HQ) by OpenTelemetry, configured only by the standard <c>OTEL_*</c> variables and
/// off unless they ask for it: <c>OTEL_TRACES_EXPORTER=otlp</c>, or an OTLP endpoint
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) with no exporter named;
/// <c>OTEL_TRACES_EXPORTER=none</c> or <c>OTEL_SDK_DISABLED=true</c> keep it off. The OTLP exporter, the sampler
/// (<c>OTEL_TRACES_SAMPLER</c>, <c>_ARG</c>), the batch processor (<c>OTEL_BSP_*</c>) and the resource
/// (<c>OTEL_SERVICE_NAME</c>, <c>OTEL_RESOURCE_ATTRIBUTES</c>) read the rest themselves.
/// </summary>
public static class NodeTracing
{
    /// <summary>Paths whose requests are never traced: scrapes, probes and the down feed's long polls and streams.</summary>
    private static readonly string[] Untraced = ["/metrics", "/health", "/sync/v1/down"];

    /// <summary>Whether the settings turn tracing on.</summary>
    /// <exception cref="InvalidOperationException">They name an exporter other than <c>otlp</c> or <c>none</c>.</exception>
    public static bool IsOn(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var exporter = configuration["OTEL_TRACES_EXPORTER"]?.Trim();
        if (string.IsNullOrEmpty(exporter))
        {
            return !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
                || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        }

        return exporter.ToLowerInvariant() switch
        {
            "otlp" => true,
            "none" => false,
            _ => throw new InvalidOperationException($"OTEL_TRACES_EXPORTER '{exporter}' is not supported: use 'otlp' (OpenTelemetry's collector, Jaeger, Tempo... take OTLP) or 'none'."),
        };
    }

    /// <summary>
    /// Registers tracing when the builder's settings ask for it: Outpost's spans (<see cref="OutpostTracing.SourceName"/>),
    /// incoming requests, and outgoing requests made inside an Outpost span (the up link), exported by OTLP.
    /// </summary>
    /// <param name="builder">The node's builder.</param>
    /// <param name="service">The service name when <c>OTEL_SERVICE_NAME</c> gives none (<c>outpost-store</c>, <c>outpost-hq</c>).</param>
    /// <param name="instance">The node: a store id, or HQ's node name.</param>
    public static void Add(WebApplicationBuilder builder, string service, string instance)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!IsOn(builder.Configuration))
        {
            return;
        }

        var named = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!named)
                {
                    resource.AddService(service, serviceInstanceId: instance);
                }
                else
                {
                    resource.AddAttributes([new KeyValuePair<string, object>("service.instance.id", instance)]);
                }
            })
            .WithTracing(tracing => tracing
                .AddSource(OutpostTracing.SourceName)
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = Traced)
                // Only a request made in an Outpost span (an up batch; the filter sees the request's own span, whose parent that is):
                // not every idle heartbeat as a trace of its own.
                .AddHttpClientInstrumentation(http => http.FilterHttpRequestMessage = _ => Activity.Current?.Parent?.Source == OutpostTracing.Source)
                .AddOtlpExporter());
    }

    private static bool Traced(HttpContext context)
    {
        foreach (var path in Untraced)
        {
            if (context.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
