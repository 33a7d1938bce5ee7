using System.Text;

namespace Relay.TestKit.Dns;

/// <summary>
/// Keys and signatures with the ldnsutils tools (ldns-keygen, ldns-key2ds, ldns-signzone): a KSK and a ZSK
/// per signed zone, ECDSA P-256, NSEC. All keys are made before any zone is written, so every parent
/// can carry its children's DS whatever the signing order.
/// </summary>
internal sealed class DnsZoneSigner(string directory)
{
    internal sealed record Keys(string Directory, string Ksk, string Zsk, string Ds);

    public async Task<Keys> CreateKeysAsync(string zone)
    {
        var dir = Path.Combine(directory, "keys", FileStem(zone));
        Directory.CreateDirectory(dir);
        var keygen = ToolRunner.Find("ldns-keygen");
        var ksk = (await ToolRunner.RunAsync(keygen, ["-a", "ECDSAP256SHA256", "-k", zone], dir).ConfigureAwait(false)).Trim();
        var zsk = (await ToolRunner.RunAsync(keygen, ["-a", "ECDSAP256SHA256", zone], dir).ConfigureAwait(false)).Trim();
        // ldns-keygen also writes a .ds file for the KSK; ldns-key2ds -n gives the SHA-256 DS on stdout.
        var ds = (await ToolRunner.RunAsync(ToolRunner.Find("ldns-key2ds"), ["-n", "-2", ksk + ".key"], dir).ConfigureAwait(false)).Trim();
        if (!ds.Contains("\tDS\t", StringComparison.Ordinal) && !ds.Contains(" DS ", StringComparison.Ordinal))
            throw new InvalidOperationException($"ldns-key2ds gave no DS for {zone}: {ds}");
        return new Keys(dir, ksk, zsk, ds);
    }

    public string WriteUnsigned(DnsZoneSpec zone, string text)
    {
        var file = Path.Combine(directory, FileStem(zone.Name) + ".zone");
        File.WriteAllText(file, text);
        return file;
    }

    public async Task<string> SignAsync(DnsZoneSpec zone, string text, Keys keys)
    {
        var unsigned = WriteUnsigned(zone, text);
        var signed = unsigned + ".signed";
        await ToolRunner.RunAsync(ToolRunner.Find("ldns-signzone"),
            ["-o", zone.Name, "-f", signed, unsigned, keys.Zsk, keys.Ksk], keys.Directory).ConfigureAwait(false);
        if (zone.CorruptSignatures.Count > 0) Corrupt(signed, zone);
        return signed;
    }

    /// <summary>Flips one base64 character in the middle of each chosen RRSIG's signature field.</summary>
    private static void Corrupt(string file, DnsZoneSpec zone)
    {
        var lines = File.ReadAllLines(file);
        foreach (var (owner, type) in zone.CorruptSignatures)
        {
            var hits = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                var f = lines[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                // owner TTL IN RRSIG covered alg labels origttl exp inc tag signer signature
                if (f.Length < 13 || f[3] != "RRSIG" || !string.Equals(f[0], owner, StringComparison.OrdinalIgnoreCase)
                    || !string.Equals(f[4], type, StringComparison.OrdinalIgnoreCase))
                    continue;
                var sig = new StringBuilder(f[^1]);
                var at = sig.Length / 2;
                sig[at] = sig[at] == 'A' ? 'B' : 'A';
                f[^1] = sig.ToString();
                lines[i] = string.Join('\t', f);
                hits++;
            }
            if (hits == 0) throw new InvalidOperationException($"no RRSIG over {owner} {type} in {zone.Name} to corrupt");
        }
        File.WriteAllLines(file, lines);
    }

    private static string FileStem(string zone) => zone == "." ? "root" : zone.TrimEnd('.');
}
