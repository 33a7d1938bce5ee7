using System.Security.Cryptography;

namespace Relay.Delivery.Ipsec;

/// <summary>
/// The peer keys Relay puts into pluto (whack --keyid ID --pubkeyrsa|--pubkeyecdsa 0s…). Per IKE id and algorithm the first
/// key replaces whatever pluto had and the others are added, so pluto holds what the latest secure answer said; keys are
/// loaded again on every Ensure, because a restarted pluto has forgotten them. pluto keeps a whack-loaded key forever (it
/// knows no TTL) and libreswan 4.10's whack cannot delete one, only replace it: so any key pluto lists for an id whose
/// answer is no longer secure (loaded by this process or an earlier one) is replaced by a public key whose private half was
/// never kept (a tombstone no peer can prove). A key must not outlive the DNSSEC proof it was loaded on.
/// </summary>
internal sealed class PlutoKeys(WhackRunner whack)
{
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(2);

    private readonly Lazy<string> rsaTombstone = new(RsaTombstone);
    private readonly Lazy<string> ecdsaTombstone = new(EcdsaTombstone);

    /// <returns>The keys pluto accepted, and a note for each it refused or for each stale key retired.</returns>
    public async Task<(IReadOnlyList<LoadableKey> Loaded, IReadOnlyList<string> Notes)> ApplyAsync(PeerKeyAnswers answers, CancellationToken cancellationToken)
    {
        var accepted = new List<LoadableKey>();
        var notes = new List<string>();
        if (answers.KeyIds.Count == 0) return (accepted, notes);
        // What pluto holds now, minus the tombstones this process wrote (those are already harmless).
        var listing = await whack.RunAsync(["--listpubkeys"], LoadTimeout, cancellationToken).ConfigureAwait(false);
        var tombstones = new[] { rsaTombstone, ecdsaTombstone }.Where(t => t.IsValueCreated).Select(t => WhackOutput.ShortKeyId(t.Value)).ToHashSet();
        var held = WhackOutput.ParsePublicKeys(listing.Output).Where(k => !tombstones.Contains(k.ShortKeyId)).ToList();
        foreach (var id in answers.KeyIds)
        {
            var keys = answers.Keys.Where(k => k.Key.KeyId == id).ToList();
            var taken = new HashSet<string>(StringComparer.Ordinal);
            foreach (var group in keys.GroupBy(k => k.WhackOption))
            {
                var first = true;
                foreach (var key in group)
                {
                    string[] arguments = first ? ["--keyid", id, key.WhackOption, key.WhackValue] : ["--keyid", id, "--addkey", key.WhackOption, key.WhackValue];
                    var result = await whack.RunAsync(arguments, LoadTimeout, cancellationToken).ConfigureAwait(false);
                    if (Refusal(result) is { } why)
                    {
                        notes.Add($"pluto did not take the key of {key.Key.Owner}: {why}");
                        continue;
                    }
                    first = false;
                    accepted.Add(key);
                    taken.Add(key.WhackOption);
                }
            }
            // Every other algorithm pluto holds a key of for this id rests on no secure answer now.
            foreach (var option in held.Where(h => h.Id == id).Select(h => h.Type == "ECDSA" ? "--pubkeyecdsa" : "--pubkeyrsa").Distinct()
                         .Where(o => !taken.Contains(o)).ToList())
            {
                var tombstone = option == "--pubkeyecdsa" ? ecdsaTombstone.Value : rsaTombstone.Value;
                var replace = await whack.RunAsync(["--keyid", id, option, tombstone], LoadTimeout, cancellationToken).ConfigureAwait(false);
                notes.Add(Refusal(replace) is { } why ? $"could not retire the key pluto holds for {id}: {why}"
                    : $"key pluto held for {id} retired (no secure IPSECKEY for it now; replaced by one nobody holds)");
            }
        }
        return (accepted, notes);
    }

    /// <summary>whack prints nothing when a key is taken; any error line (or no answer) is a refusal.</summary>
    private static string? Refusal(WhackResult result)
    {
        if (result.StartFailure is { } failure) return failure;
        if (result.TimedOut) return "pluto did not answer";
        var error = WhackOutput.Lines(result.Output).FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)
            || l.StartsWith("bad --keyid", StringComparison.Ordinal) || l.Contains("Pluto is not running", StringComparison.Ordinal) || l.StartsWith("whack: ", StringComparison.Ordinal));
        return error ?? (result.ExitCode is not 0 ? $"whack exit code {result.ExitCode}" : null);
    }

    /// <summary>A fresh RSA public key in RFC 3110 form (exponent length, exponent, modulus); the private key is dropped.</summary>
    private static string RsaTombstone()
    {
        using var rsa = RSA.Create(3072);
        var p = rsa.ExportParameters(false);
        return "0s" + Convert.ToBase64String([(byte)p.Exponent!.Length, .. p.Exponent, .. p.Modulus!]);
    }

    /// <summary>A fresh P-256 public key in RFC 8005 form (x, y); the private key is dropped.</summary>
    private static string EcdsaTombstone()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ecdsa.ExportParameters(false).Q;
        return "0s" + Convert.ToBase64String([.. q.X!, .. q.Y!]);
    }
}
