namespace Outpost.Core.Consumers;

/// <summary>
/// Values read from a read model, kept in memory until the consumer that writes the read model commits a change
/// and calls <see cref="Invalidate"/> (from <see cref="ICommitListener.Committed"/>). A value read while a change
/// commits is never kept past it: each read notes the generation it started in, and is stored only if no
/// invalidation came in between; an invalidation empties what was stored before it.
/// </summary>
/// <typeparam name="TKey">What a value is looked up by.</typeparam>
/// <typeparam name="TValue">The value (null allowed: "not there" is worth keeping too).</typeparam>
public sealed class ReadCache<TKey, TValue>
    where TKey : notnull
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TKey, TValue> _values;
    private readonly int _capacity;
    private long _generation;

    /// <summary>Creates an empty cache holding at most <paramref name="capacity"/> values (past it, reads go to the database).</summary>
    public ReadCache(int capacity = 100_000, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _values = new Dictionary<TKey, TValue>(comparer);
    }

    /// <summary>How many values are kept.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _values.Count;
            }
        }
    }

    /// <summary>The value kept for <paramref name="key"/>, or what <paramref name="read"/> returns (kept unless a change committed meanwhile).</summary>
    public async ValueTask<TValue> GetOrReadAsync(TKey key, Func<TKey, CancellationToken, Task<TValue>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        long generation;
        lock (_gate)
        {
            if (_values.TryGetValue(key, out var kept))
            {
                return kept;
            }

            generation = _generation;
        }

        var value = await read(key, cancellationToken);
        lock (_gate)
        {
            if (generation == _generation && _values.Count < _capacity)
            {
                _values[key] = value;
            }
        }

        return value;
    }

    /// <summary>Forgets every value: the read model changed.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _generation++;
            _values.Clear();
        }
    }
}
