using System.Net;
using Microsoft.Extensions.Configuration;

namespace Relay.Server.Configuration;

/// <summary>
/// Two listeners of one configuration on one port would split the connections between them (port-25 and
/// submission semantics at random), so an endpoint may appear once across every listening key. A wildcard address
/// (0.0.0.0, [::]) overlaps every address of the port.
/// </summary>
internal static class EndpointConflicts
{
    public static void Refuse(IConfigurationSection relay, IReadOnlyList<string> listKeys)
    {
        var seen = new List<(string Key, string Value, IPEndPoint EndPoint)>();
        foreach (var name in listKeys)
        {
            foreach (var (key, value) in RelayConfig.Entries(relay, name))
            {
                var endpoint = ConfigParsers.EndPoint(key, value);
                // Port 0 asks the kernel for a free port: never a conflict.
                if (endpoint.Port == 0) { continue; }
                foreach (var earlier in seen.Where(s => Overlap(s.EndPoint, endpoint)))
                    throw new ConfigException(key, value, $"the same endpoint as {earlier.Key} = \"{earlier.Value}\"; each endpoint may be listened on once");
                seen.Add((key, value, endpoint));
            }
        }
    }

    private static bool Overlap(IPEndPoint a, IPEndPoint b) =>
        a.Port == b.Port && (a.Address.Equals(b.Address) || IsWildcard(a.Address) || IsWildcard(b.Address));

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}
