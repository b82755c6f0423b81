using System.Diagnostics.CodeAnalysis;

namespace Outpost.Core.Events;

/// <summary>
/// The id of a node that records events: a store (<c>store-042</c>) or HQ (<c>hq</c>).
/// 1–64 characters of letters, digits, <c>-</c>, <c>_</c> and <c>.</c>.
/// </summary>
public readonly record struct NodeId
{
    private NodeId(string value) => Value = value;

    /// <summary>The id's text.</summary>
    public string Value { get; }

    /// <summary>Validates and wraps a node id.</summary>
    /// <exception cref="FormatException">The text is not a valid node id.</exception>
    public static NodeId Parse(string text) =>
        TryParse(text, out var id)
            ? id
            : throw new FormatException($"'{text}' is not a valid node id: use 1-64 letters, digits, '-', '_' or '.'.");

    /// <summary>Validates and wraps a node id, returning false when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out NodeId id)
    {
        id = default;
        if (!Scope.IsValidId(text))
        {
            return false;
        }

        id = new NodeId(text);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;
}
