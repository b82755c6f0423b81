namespace Outpost.Deploy.Tests;

[CollectionDefinition(Name)]
public sealed class Containers : ICollectionFixture<Images>
{
    /// <summary>Every container test: one at a time, since they share podman and the fixed ports of the manifests.</summary>
    public const string Name = "containers";
}
