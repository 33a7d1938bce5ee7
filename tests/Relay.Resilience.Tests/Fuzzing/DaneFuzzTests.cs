using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// Issue 13 §6, the DANE verifier (Relay.Policy/Dane): damaged certificates (DER) and chains, as a peer could present
/// them, judged against TLSA records that match the undamaged ones; and damaged TLSA presentation text and PEM
/// chains through `relay dane verify`'s own code. A certificate the platform cannot load is refused with its
/// CryptographicException (the loader's own error); anything that loads gets a verdict, never an exception.
/// </summary>
public sealed class DaneFuzzTests(ITestOutputHelper output)
{
    private static readonly X509Certificate2 Authority = PeerCertificates.Authority("Fuzz CA");
    private static readonly X509Certificate2 Leaf = PeerCertificates.IssuedBy(Authority, "mx.fuzz.test");
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static readonly TlsaAssociation[] Records =
    [
        Tlsa($"3 1 1 {PeerCertificates.SpkiSha256(Leaf)}"),
        Tlsa($"2 0 1 {Convert.ToHexStringLower(SHA256.HashData(Authority.RawData))}"),
        Tlsa($"3 0 2 {Convert.ToHexStringLower(SHA512.HashData(Leaf.RawData))}"),
        Tlsa($"2 1 0 {Convert.ToHexStringLower(Authority.PublicKey.ExportSubjectPublicKeyInfo())}"),
    ];

    private static readonly ReferenceIdentifier[] Names = [new("mx.fuzz.test"), new("fuzz.test", Subdomains: true)];

    [Fact]
    public void Damaged_certificates_are_refused_by_the_loader_or_judged_never_throw()
    {
        Fuzz.Run(output, "dane-certificate", 1321, 1_500, [Leaf.RawData, Authority.RawData], der =>
        {
            X509Certificate2 loaded;
            // Only the loader may refuse (a peer's bytes that are no certificate never reach the verifier).
            try { loaded = X509CertificateLoader.LoadCertificate(der); }
            catch (CryptographicException) { return false; }
            using var damaged = loaded;
            _ = DaneVerifier.Verify(Records, rrsetSecure: true, [damaged, Authority], Names, Now);
            _ = DaneVerifier.Verify(Records, rrsetSecure: true, [Leaf, damaged], Names, Now);
            _ = DaneVerifier.Verify(Records, rrsetSecure: true, [damaged], Names, Now);
            return true;
        });
    }

    [Fact]
    public void Damaged_tlsa_text_and_pem_chains_get_an_answer_from_dane_verify()
    {
        var pem = Encoding.ASCII.GetBytes(Leaf.ExportCertificatePem() + "\n" + Authority.ExportCertificatePem() + "\n");
        var tlsa = Records.Select(r => $"{r.Usage} {r.Selector} {r.MatchingType} {Convert.ToHexStringLower(r.Data.ToArray())}").ToArray();
        var corpus = new List<byte[]> { pem };
        corpus.AddRange(tlsa.Select(t => Encoding.ASCII.GetBytes(t)));
        Fuzz.Run(output, "dane-verify-input", 1322, 1_500, corpus, input =>
        {
            var text = Encoding.UTF8.GetString(input);
            // A damaged TLSA record with the good chain, and the good records with a damaged chain.
            var asRecord = text.StartsWith("-----", StringComparison.Ordinal)
                ? DaneVerifyTool.Run(tlsa, text, "chain.pem", ["mx.fuzz.test"], json: true, Now)
                : DaneVerifyTool.Run([text], Encoding.ASCII.GetString(pem), "chain.pem", ["mx.fuzz.test", "fuzz.test"], json: false, Now);
            Assert.InRange(asRecord.ExitCode, 0, 2);
            Assert.True(asRecord.ExitCode != 2 || !string.IsNullOrWhiteSpace(asRecord.Stderr), "bad input without a message naming it");
            return asRecord.ExitCode != 2;
        });
    }

    private static TlsaAssociation Tlsa(string text) =>
        TlsaAssociation.TryParse(text, out var record, out var error) ? record! : throw new InvalidOperationException(error);
}
