namespace Relay.Dns.Wire;

public sealed record DnsQuestion(string Name, DnsType Type, ushort Class = DnsRecord.ClassIN)
{
    /// <summary>Same name (ASCII case-insensitive), type and class: how an answer proves it answers our query.</summary>
    public bool Matches(DnsQuestion other) =>
        Type == other.Type && Class == other.Class && DnsName.Equal(Name, other.Name);

    public override string ToString() => $"{Name} {DnsTypes.ToText(Type)}";
}
