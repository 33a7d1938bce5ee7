namespace Relay.Dns;

/// <summary>
/// Answers (positive and negative) kept until their TTL runs out, at most <c>capacity</c> of them;
/// the least recently used goes first. Bogus and error results are never cached here: the validating
/// resolver behind us already rate-limits its own retries.
/// </summary>
internal sealed class DnsCache(int capacity, TimeProvider time, TimeSpan maxTtl)
{
    private sealed record Entry(string Key, DnsResult Result, DateTimeOffset Expires);

    private readonly object _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _lru = new();

    public int Count
    {
        get { lock (_lock) return _map.Count; }
    }

    public static string Key(string name, DnsType type) => DnsName.Key(name) + "/" + ((ushort)type).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public bool TryGet(string key, out DnsResult? result)
    {
        result = null;
        lock (_lock)
        {
            if (!_map.TryGetValue(key, out var node)) return false;
            if (node.Value.Expires <= time.GetUtcNow())
            {
                _lru.Remove(node);
                _map.Remove(key);
                return false;
            }
            _lru.Remove(node);
            _lru.AddFirst(node);
            result = node.Value.Result;
            return true;
        }
    }

    public void Set(string key, DnsResult result, uint ttlSeconds)
    {
        if (capacity <= 0 || ttlSeconds == 0) return;
        var ttl = TimeSpan.FromSeconds(ttlSeconds);
        if (ttl > maxTtl) ttl = maxTtl;
        var entry = new Entry(key, result, time.GetUtcNow() + ttl);
        lock (_lock)
        {
            if (_map.Remove(key, out var old)) _lru.Remove(old);
            _map[key] = _lru.AddFirst(entry);
            while (_map.Count > capacity && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }
}
