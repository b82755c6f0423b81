using System.Diagnostics.CodeAnalysis;

namespace Outpost.Core.Events;

/// <summary>What kind of audience a <see cref="Scope"/> names.</summary>
public enum ScopeKind
{
    /// <summary><c>*</c>: every node.</summary>
    All = 0,

    /// <summary><c>region:&lt;id&gt;</c>: the nodes of one region.</summary>
    Region = 1,

    /// <summary><c>store:&lt;id&gt;</c>: one store.</summary>
    Store = 2,
}

/// <summary>
/// The routing scope of an event: <c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.
/// Ids are 1–64 characters of letters, digits, <c>-</c>, <c>_</c> and <c>.</c>.
/// </summary>
public readonly record struct Scope
{
    private const int MaxIdLength = 64;

    private Scope(ScopeKind kind, string? id)
    {
        Kind = kind;
        Id = id;
    }

    /// <summary>The scope every node receives.</summary>
    public static Scope All { get; } = new(ScopeKind.All, null);

    /// <summary>The kind of audience.</summary>
    public ScopeKind Kind { get; }

    /// <summary>The region or store id; null for <see cref="ScopeKind.All"/>.</summary>
    public string? Id { get; }

    /// <summary>The scope of one region.</summary>
    public static Scope Region(string id) => new(ScopeKind.Region, ValidId(id, nameof(id)));

    /// <summary>The scope of one store.</summary>
    public static Scope Store(string id) => new(ScopeKind.Store, ValidId(id, nameof(id)));

    /// <summary>Parses <c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.</summary>
    /// <exception cref="FormatException">The text is none of those forms.</exception>
    public static Scope Parse(string text) =>
        TryParse(text, out var scope)
            ? scope
            : throw new FormatException($"Scope '{text}' is not of a known form: use '*', 'region:<id>' or 'store:<id>', where <id> is 1-64 letters, digits, '-', '_' or '.'.");

    /// <summary>Parses a scope, returning false when the text is of no known form.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Scope scope)
    {
        scope = default;
        if (text is null)
        {
            return false;
        }

        if (text == "*")
        {
            scope = All;
            return true;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var id = text[(colon + 1)..];
        if (!IsValidId(id))
        {
            return false;
        }

        switch (text.AsSpan(0, colon))
        {
            case "region":
                scope = new Scope(ScopeKind.Region, id);
                return true;
            case "store":
                scope = new Scope(ScopeKind.Store, id);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Whether <paramref name="id"/> may name a region or a store.</summary>
    public static bool IsValidId([NotNullWhen(true)] string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The text form: <c>*</c>, <c>region:&lt;id&gt;</c> or <c>store:&lt;id&gt;</c>.</summary>
    public override string ToString() => Kind switch
    {
        ScopeKind.All => "*",
        ScopeKind.Region => "region:" + Id,
        _ => "store:" + Id,
    };

    private static string ValidId(string id, string paramName) =>
        IsValidId(id) ? id : throw new ArgumentException($"'{id}' is not a valid region or store id: use 1-64 letters, digits, '-', '_' or '.'.", paramName);
}
