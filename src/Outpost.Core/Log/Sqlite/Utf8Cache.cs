using System.Text;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// UTF-8 bytes of the writer's low-cardinality strings (topics, types, scopes), encoded once. Bounded:
/// a log with unusually many distinct values starts over rather than grow without limit.
/// </summary>
internal sealed class Utf8Cache<TKey>(Func<TKey, string> text)
    where TKey : notnull
{
    private const int MaxEntries = 4096;
    private readonly Dictionary<TKey, byte[]> _bytes = [];

    public byte[] Get(TKey key)
    {
        if (_bytes.TryGetValue(key, out var bytes))
        {
            return bytes;
        }

        if (_bytes.Count >= MaxEntries)
        {
            _bytes.Clear();
        }

        bytes = Encoding.UTF8.GetBytes(text(key));
        _bytes.Add(key, bytes);
        return bytes;
    }
}
