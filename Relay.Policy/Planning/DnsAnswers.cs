using Relay.Dns;

namespace Relay.Policy.Planning;

/// <summary>A question the planner needs answered.</summary>
public sealed record DnsLookup(string Name, DnsType Type)
{
    public override string ToString() => $"{Name} {DnsTypes.ToText(Type)}";
}

/// <summary>
/// The answers gathered so far, keyed by the question asked. The planner is a pure function of these;
/// whoever holds the resolver keeps asking what it reports missing (see <see cref="DeliveryPlanService"/>).
/// </summary>
public sealed class DnsAnswers
{
    private readonly Dictionary<(string, DnsType), DnsResult> _answers = new();

    public int Count => _answers.Count;

    public DnsAnswers Add(DnsResult result) => Add(result.Name, result.Type, result);

    public DnsAnswers Add(string name, DnsType type, DnsResult result)
    {
        _answers[(Key(name), type)] = result;
        return this;
    }

    public DnsResult? Get(string name, DnsType type) => _answers.GetValueOrDefault((Key(name), type));

    private static string Key(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();
}
