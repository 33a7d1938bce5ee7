using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Relay.Delivery.Ipsec;

/// <summary>
/// The peer keys Relay put into pluto (whack --keyid ID --pubkeyrsa|--pubkeyecdsa 0s…). Per IKE id and algorithm the first
/// key replaces whatever pluto had and the others are added, so pluto holds what the latest secure answer said; keys are
/// loaded again on every Ensure, because a restarted pluto has forgotten them. pluto keeps a whack-loaded key forever (it
/// knows no TTL) and libreswan 4.10's whack cannot delete one, only replace it: so when an id that had a key gets no secure
/// answer any more, its key is replaced by a public key whose private half was never kept (a tombstone no peer can prove).
/// A key must not outlive the DNSSEC proof it was loaded on.
/// </summary>
internal sealed class PlutoKeys(WhackRunner whack)
{
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Key id → the whack options (algorithms) of the keys loaded for it last.</summary>
    private readonly ConcurrentDictionary<string, string[]> loaded = new(StringComparer.Ordinal);

    private readonly Lazy<string> rsaTombstone = new(RsaTombstone);
    private readonly Lazy<string> ecdsaTombstone = new(EcdsaTombstone);

    /// <returns>The keys pluto accepted, and a note for each it refused or for each stale id neutralised.</returns>
    public async Task<(IReadOnlyList<LoadableKey> Loaded, IReadOnlyList<string> Notes)> ApplyAsync(PeerKeyAnswers answers, CancellationToken cancellationToken)
    {
        var accepted = new List<LoadableKey>();
        var notes = new List<string>();
        foreach (var id in answers.KeyIds)
        {
            var keys = answers.Keys.Where(k => k.Key.KeyId == id).ToList();
            var stale = loaded.TryGetValue(id, out var before) ? before.Except(keys.Select(k => k.WhackOption)).ToArray() : [];
            foreach (var option in stale)
            {
                var tombstone = option == "--pubkeyecdsa" ? ecdsaTombstone.Value : rsaTombstone.Value;
                var replace = await whack.RunAsync(["--keyid", id, option, tombstone], LoadTimeout, cancellationToken).ConfigureAwait(false);
                notes.Add(Refusal(replace) is { } why ? $"could not retire the key loaded earlier for {id}: {why}"
                    : $"key loaded earlier for {id} retired (replaced by one nobody holds)");
            }
            var taken = new List<string>();
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
                    if (!taken.Contains(key.WhackOption)) taken.Add(key.WhackOption);
                }
            }
            // What pluto may still hold for this id: what was taken now, and stale keys whose retirement failed.
            if (taken.Count == 0 && stale.Length == 0) loaded.TryRemove(id, out _);
            else loaded[id] = taken.ToArray();
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
