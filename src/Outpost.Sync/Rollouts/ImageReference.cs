using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Outpost.Sync.Rollouts;

/// <summary>
/// A container image pinned by digest, as a release names it: <c>registry.example.com/outpost@sha256:&lt;64 hex&gt;</c>
/// (a tag before the digest, <c>outpost:1.0.1@sha256:…</c>, is kept for people and ignored for pulls). A tag alone is
/// refused: it can move, so two stores could run different images under one release.
/// </summary>
public readonly partial record struct ImageReference(string Registry, string Repository, string? Tag, string Digest)
{
    /// <summary>Parses a reference pinned by digest; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static ImageReference Parse(string value) =>
        TryParse(value, out var reference, out var problem) ? reference : throw new FormatException(problem);

    /// <summary>Parses a reference pinned by digest; false with the reason when it is not one.</summary>
    public static bool TryParse(string? value, out ImageReference reference, [NotNullWhen(false)] out string? problem)
    {
        reference = default;
        if (string.IsNullOrWhiteSpace(value) || value.Length > 512)
        {
            problem = "Name the image as registry/repository@sha256:<digest>, for example registry.example.com/outpost@sha256:3f5c….";
            return false;
        }

        var match = Pattern().Match(value);
        if (!match.Success)
        {
            problem = value.Contains('@', StringComparison.Ordinal)
                ? $"'{value}' is not registry/repository[:tag]@sha256:<64 lowercase hex digits>."
                : $"'{value}' is not pinned by digest: name it as registry/repository@sha256:<digest> (a tag can move; a digest cannot).";
            return false;
        }

        reference = new ImageReference(match.Groups["registry"].Value, match.Groups["repository"].Value,
            match.Groups["tag"].Success ? match.Groups["tag"].Value : null, "sha256:" + match.Groups["digest"].Value);
        problem = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}@{Digest}";

    // The registry part must look like a host (a dot or a port, or localhost): a bare "outpost@sha256:…" would mean
    // Docker Hub, which no store should pull from by accident.
    [GeneratedRegex(@"^(?<registry>(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+|[a-z0-9.-]+:[0-9]{1,5}|\[[0-9a-f:]+\](?::[0-9]{1,5})?))/(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?@sha256:(?<digest>[a-f0-9]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
