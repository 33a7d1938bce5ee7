namespace Relay.Policy.Dane;

/// <summary>The verifier's answer; the words are `relay dane verify`'s "result" values.</summary>
public enum DaneVerdict { Verified, NoUsableTlsa, NoMatch, NameMismatch, ChainInvalid }

/// <param name="Usage">2 or 3 when verified.</param>
/// <param name="Depth">Position in the presented chain of the matching certificate (0 = leaf); for a
/// trust anchor supplied out of band by a Full(0) record, the number of presented certificates below it.</param>
/// <param name="Matched">The TLSA record that authenticated the peer.</param>
/// <param name="Detail">For the operator: why a candidate failed (chain status, names tried).</param>
public sealed record DaneResult(DaneVerdict Verdict, int? Usage = null, int? Depth = null, TlsaAssociation? Matched = null, string? Detail = null)
{
    public bool IsVerified => Verdict == DaneVerdict.Verified;

    public AuthenticationMethod Method => !IsVerified ? AuthenticationMethod.None
        : Usage == TlsaAssociation.UsageDaneEe ? AuthenticationMethod.DaneEe : AuthenticationMethod.DaneTa;

    public static string ToWire(DaneVerdict verdict) => verdict switch
    {
        DaneVerdict.Verified => "verified",
        DaneVerdict.NoUsableTlsa => "no-usable-tlsa",
        DaneVerdict.NoMatch => "no-match",
        DaneVerdict.NameMismatch => "name-mismatch",
        DaneVerdict.ChainInvalid => "chain-invalid",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, null),
    };

    public override string ToString() => ToWire(Verdict) + (IsVerified ? $" (usage {Usage}, depth {Depth})" : "") + (Detail is null ? "" : $": {Detail}");
}
