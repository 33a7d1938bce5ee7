using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

/// <summary>The answer of <see cref="CertificateSignature.IsSignedBy"/>: an unsupported algorithm is not "not signed".</summary>
public enum SignatureCheck { Signed, NotSigned, CannotCheck }

/// <summary>
/// Whether a certificate's signature was made by a given public key (a DER SubjectPublicKeyInfo), with no issuer
/// certificate at hand: what RFC 7671 §5.2.3 asks for a DANE-TA `2 1 0` record whose key the server's chain does not
/// carry as a certificate. X509Chain cannot do this (it needs an issuer certificate), so the signature is checked here.
/// Algorithms: RSA PKCS#1 v1.5 and ECDSA with SHA-256/384/512, what SMTP servers' CAs use; anything else (SHA-1,
/// RSA-PSS, EdDSA) answers CannotCheck with the reason, so an unsupported anchor never authenticates.
/// </summary>
public static class CertificateSignature
{
    private static readonly Dictionary<string, (bool Rsa, HashAlgorithmName Hash)> Algorithms = new()
    {
        ["1.2.840.113549.1.1.11"] = (true, HashAlgorithmName.SHA256),
        ["1.2.840.113549.1.1.12"] = (true, HashAlgorithmName.SHA384),
        ["1.2.840.113549.1.1.13"] = (true, HashAlgorithmName.SHA512),
        ["1.2.840.10045.4.3.2"] = (false, HashAlgorithmName.SHA256),
        ["1.2.840.10045.4.3.3"] = (false, HashAlgorithmName.SHA384),
        ["1.2.840.10045.4.3.4"] = (false, HashAlgorithmName.SHA512),
    };

    /// <returns>Signed only when the signature over the certificate's TBSCertificate verifies under <paramref name="subjectPublicKeyInfo"/>;
    /// CannotCheck when the certificate or its signature algorithm is beyond what this checks.</returns>
    public static SignatureCheck IsSignedBy(X509Certificate2 certificate, ReadOnlySpan<byte> subjectPublicKeyInfo, out string detail)
    {
        ReadOnlyMemory<byte> tbs;
        string algorithm;
        byte[] signature;
        try
        {
            // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
            var outer = new AsnReader(certificate.RawData, AsnEncodingRules.DER).ReadSequence();
            tbs = outer.ReadEncodedValue();
            var algorithmIdentifier = outer.ReadSequence();
            algorithm = algorithmIdentifier.ReadObjectIdentifier();
            signature = outer.ReadBitString(out var unused);
            if (unused != 0) throw new AsnContentException("signature bit string has unused bits");
        }
        catch (AsnContentException e)
        {
            detail = $"certificate {certificate.Subject} cannot be parsed: {e.Message}";
            return SignatureCheck.CannotCheck;
        }
        if (!Algorithms.TryGetValue(algorithm, out var alg))
        {
            detail = $"certificate {certificate.Subject} is signed with {algorithm}, which is not supported for a key-only trust anchor";
            return SignatureCheck.CannotCheck;
        }
        try
        {
            bool ok;
            int read;
            if (alg.Rsa)
            {
                using var rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out read);
                ok = read == subjectPublicKeyInfo.Length && rsa.VerifyData(tbs.Span, signature, alg.Hash, RSASignaturePadding.Pkcs1);
            }
            else
            {
                using var ecdsa = ECDsa.Create();
                ecdsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out read);
                ok = read == subjectPublicKeyInfo.Length && ecdsa.VerifyData(tbs.Span, signature, alg.Hash, DSASignatureFormat.Rfc3279DerSequence);
            }
            detail = ok ? $"{certificate.Subject} is signed by the anchor key" : $"{certificate.Subject} is not signed by the anchor key";
            return ok ? SignatureCheck.Signed : SignatureCheck.NotSigned;
        }
        // PlatformNotSupportedException too: OpenSSL reports an EC point that is not on its curve as an unsupported
        // curve (found by the fuzzer with a damaged `2 1 0` record), and a record from DNS must never throw here.
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            // The record's key is not a key of the signature's kind (or not a key at all): it did not sign this.
            detail = $"the anchor key is not a {(alg.Rsa ? "RSA" : "EC")} public key, {certificate.Subject} is not signed by it";
            return SignatureCheck.NotSigned;
        }
    }
}
