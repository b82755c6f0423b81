using Outpost.Sync.Rollouts;

namespace Outpost.Sync.Tests;

public sealed class ImageReferenceTests
{
    private const string Digest = "sha256:3f5c1a0e9b8d7c6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f";

    [Theory]
    [InlineData("registry.example.com/outpost@" + Digest, "registry.example.com", "outpost", null)]
    [InlineData("registry.example.com/retail/outpost:1.0.1@" + Digest, "registry.example.com", "retail/outpost", "1.0.1")]
    [InlineData("127.0.0.1:5000/outpost@" + Digest, "127.0.0.1:5000", "outpost", null)]
    [InlineData("localhost/outpost@" + Digest, "localhost", "outpost", null)]
    public void A_reference_pinned_by_digest_parses_into_its_parts_and_prints_back_the_same(string text, string registry, string repository, string? tag)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal((registry, repository, tag, Digest), (reference.Registry, reference.Repository, reference.Tag, reference.Digest));
        Assert.Equal(text, reference.ToString());
    }

    [Theory]
    [InlineData("registry.example.com/outpost:1.0.1", "not pinned by digest")]
    [InlineData("outpost@" + Digest, "is not registry/repository")]
    [InlineData("registry.example.com/outpost@sha256:abc", "is not registry/repository")]
    [InlineData("registry.example.com/Outpost@" + Digest, "is not registry/repository")]
    [InlineData("", "Name the image as")]
    public void A_reference_that_is_not_pinned_by_digest_to_a_named_registry_is_refused_saying_why(string text, string says)
    {
        Assert.False(ImageReference.TryParse(text, out _, out var problem));
        Assert.Contains(says, problem, StringComparison.Ordinal);
    }
}
