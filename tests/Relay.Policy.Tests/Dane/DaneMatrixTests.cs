using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Dane;

/// <summary>usage × selector × matching type × chain position, each alone in its RRset.</summary>
public class DaneMatrixTests
{
    private static readonly Lazy<Chain> Pki = new(() => ThreeLevel());

    public static TheoryData<byte, byte, byte, int> Cases()
    {
        var data = new TheoryData<byte, byte, byte, int>();
        for (byte u = 0; u <= 3; u++)
            for (byte s = 0; s <= 1; s++)
                for (byte m = 0; m <= 2; m++)
                    for (var position = 0; position <= 2; position++)
                        data.Add(u, s, m, position);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Record_for_chain_position_gives_the_expected_verdict(byte usage, byte selector, byte matching, int position)
    {
        var c = Pki.Value;
        var target = position switch { 0 => c.Leaf, 1 => c.Intermediate, _ => c.Root };
        var result = DaneVerifier.Verify([Tlsa(usage, selector, matching, target)], true, c.PresentedWithRoot,
            [new ReferenceIdentifier("mx.example.com")], Now);

        var expected = (usage, position) switch
        {
            (0 or 1, _) => DaneVerdict.NoUsableTlsa,
            (3, 0) => DaneVerdict.Verified,
            (3, _) => DaneVerdict.NoMatch,
            (2, 0) => DaneVerdict.NoMatch, // a leaf is never its own trust anchor
            _ => DaneVerdict.Verified,
        };
        Assert.Equal(expected, result.Verdict);
        if (expected == DaneVerdict.Verified)
        {
            Assert.Equal(usage, result.Usage);
            Assert.Equal(position, result.Depth);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Sha512_beats_sha256_at_every_usage(byte selector)
    {
        var c = Pki.Value;
        var decoy = Leaf(c.Intermediate, ["mx.example.com"]);
        foreach (var (usage, target) in new[] { ((byte)3, c.Leaf), ((byte)2, c.Intermediate) })
        {
            var decoyTarget = usage == 3 ? decoy : c.Root;
            var weakMatches = DaneVerifier.Verify([Tlsa(usage, selector, 1, target), Tlsa(usage, selector, 2, decoyTarget)], true,
                c.Presented, [new ReferenceIdentifier("mx.example.com")], Now);
            Assert.Equal(DaneVerdict.NoMatch, weakMatches.Verdict);
            var strongMatches = DaneVerifier.Verify([Tlsa(usage, selector, 1, decoyTarget), Tlsa(usage, selector, 2, target)], true,
                c.Presented, [new ReferenceIdentifier("mx.example.com")], Now);
            Assert.True(strongMatches.IsVerified);
            Assert.Equal(2, strongMatches.Matched!.MatchingType);
        }
    }
}
