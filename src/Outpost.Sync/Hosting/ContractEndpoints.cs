using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Outpost.Core.Contracts;

namespace Outpost.Sync.Hosting;

/// <summary>One event contract in the index.</summary>
/// <param name="Topic">The topic the type is published on.</param>
/// <param name="Type">The event type.</param>
/// <param name="Version">Its version.</param>
/// <param name="Id">The schema's <c>$id</c>.</param>
/// <param name="Href">Where its schema is served.</param>
public sealed record ContractSummary(string Topic, string Type, int Version, string Id, string Href);

/// <summary>
/// The event contracts a node knows, served the same way by a store server and by HQ: <c>GET /contracts</c> lists them,
/// <c>GET /contracts/{topic}/{type}/{version}</c> answers one JSON Schema (<c>application/schema+json</c>). They are
/// public (the same files are in the repository's <c>docs/contracts/</c>), so no credential is asked for.
/// </summary>
public static class ContractEndpoints
{
    /// <summary>The media type of a schema.</summary>
    public const string SchemaMediaType = "application/schema+json";

    /// <summary>Maps the two endpoints for a fixed catalog.</summary>
    public static RouteGroupBuilder MapContracts(this IEndpointRouteBuilder app, ContractCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return app.MapContracts(() => catalog);
    }

    /// <summary>Maps the two endpoints for a catalog that grows (a store's, with the types its services register).</summary>
    public static RouteGroupBuilder MapContracts(this IEndpointRouteBuilder app, Func<ContractCatalog> catalog)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(catalog);
        var group = app.MapGroup("/contracts").WithTags("Contracts").AllowAnonymous();
        group.MapGet("", () => TypedResults.Json<IReadOnlyList<ContractSummary>>(
                [.. catalog().All.Select(c => new ContractSummary(c.Topic, c.Type, c.Version, EventContract.Id(c.Topic, c.Type, c.Version), Href(c)))],
                ContractsJsonContext.Default.IReadOnlyListContractSummary))
            .Produces<IReadOnlyList<ContractSummary>>().WithName("ListContracts").WithSummary("Every event type and version this node knows, with where its JSON Schema is.");
        group.MapGet("/{topic}/{type}/{version:int}", Results<ContentHttpResult, ProblemHttpResult> (string topic, string type, int version) =>
                catalog().Find(topic, type, version) is { } contract
                    ? TypedResults.Text(contract.Schema, SchemaMediaType)
                    : TypedResults.Problem($"No contract for {type} v{version} on topic '{topic}': GET /contracts lists them.", statusCode: StatusCodes.Status404NotFound, title: "Unknown contract"))
            .Produces<string>(StatusCodes.Status200OK, SchemaMediaType).WithName("GetContract").WithSummary("The JSON Schema (draft 2020-12) of an event type at a version.");
        return group;
    }

    /// <summary>Where a contract's schema is served.</summary>
    public static string Href(EventContract contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return $"/contracts/{Uri.EscapeDataString(contract.Topic)}/{Uri.EscapeDataString(contract.Type)}/{contract.Version}";
    }
}

/// <summary>Source-generated JSON for the contract index.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IReadOnlyList<ContractSummary>))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
