using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Tests;

/// <summary>Certificates made inside the test with CertificateRequest: ECDSA P-256, milliseconds each.</summary>
public static class TestPki
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public static X509Certificate2 Root(string cn = "Test Root", bool keyIds = true) =>
        Authority(cn, issuer: null, keyIds, Now.AddYears(-10), Now.AddYears(10));

    public static X509Certificate2 Intermediate(X509Certificate2 issuer, string cn = "Test Intermediate", bool keyIds = true,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null) =>
        Authority(cn, issuer, keyIds, notBefore ?? Now.AddYears(-5), notAfter ?? Now.AddYears(5));

    public static X509Certificate2 Leaf(X509Certificate2? issuer, string[] dnsNames, string cn = "leaf", bool keyIds = true,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var n in dnsNames) san.AddDnsName(n);
            request.CertificateExtensions.Add(san.Build());
        }
        if (keyIds) request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var from = notBefore ?? Now.AddDays(-30);
        var to = notAfter ?? Now.AddDays(60);
        if (issuer is null) return request.CreateSelfSigned(from, to);
        if (keyIds) request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var signed = request.Create(issuer, from, to, Serial());
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>A leaf whose validity may lie outside its issuer's (CertificateRequest.Create(issuerCert, …) refuses that).</summary>
    public static X509Certificate2 LeafOutsideIssuerValidity(X509Certificate2 issuer, string dnsName) =>
        LeafNamedAfter(issuer, issuer, dnsName);

    /// <summary>A leaf whose issuer name and key identifier say <paramref name="claimedIssuer"/> but which
    /// <paramref name="signer"/> signed: an impostor CA that copied the real one's name.</summary>
    public static X509Certificate2 LeafNamedAfter(X509Certificate2 claimedIssuer, X509Certificate2 signer, string dnsName, bool keyIds = true)
    {
        var issuer = claimedIssuer;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        if (keyIds) request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var generator = X509SignatureGenerator.CreateForECDsa(signer.GetECDsaPrivateKey()!);
        return request.Create(issuer.SubjectName, generator, Now.AddDays(-1), Now.AddDays(30), Serial());
    }

    private static X509Certificate2 Authority(string cn, X509Certificate2? issuer, bool keyIds, DateTimeOffset from, DateTimeOffset to)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        if (keyIds) request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null) return request.CreateSelfSigned(from, to);
        if (keyIds) request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var signed = request.Create(issuer, from, to, Serial());
        return signed.CopyWithPrivateKey(key);
    }

    private static byte[] Serial() => RandomNumberGenerator.GetBytes(12) is var s ? [(byte)(s[0] & 0x7F), .. s[1..]] : [];

    /// <summary>The TLSA record a zone operator would publish for <paramref name="cert"/>.</summary>
    public static global::Relay.Policy.Dane.TlsaAssociation Tlsa(byte usage, byte selector, byte matching, X509Certificate2 cert) =>
        new(usage, selector, matching, global::Relay.Policy.Certificates.CertificateDigests.TlsaData(cert, selector, matching)!);

    /// <summary>A typical three-level PKI: root → intermediate → leaf for mx.example.com.</summary>
    public sealed record Chain(X509Certificate2 Root, X509Certificate2 Intermediate, X509Certificate2 Leaf)
    {
        public IReadOnlyList<X509Certificate2> Presented => [Leaf, Intermediate];
        public IReadOnlyList<X509Certificate2> PresentedWithRoot => [Leaf, Intermediate, Root];
    }

    public static Chain ThreeLevel(string[]? names = null, bool keyIds = true, DateTimeOffset? leafNotBefore = null, DateTimeOffset? leafNotAfter = null)
    {
        var root = Root(keyIds: keyIds);
        var intermediate = Intermediate(root, keyIds: keyIds);
        var leaf = Leaf(intermediate, names ?? ["mx.example.com"], keyIds: keyIds, notBefore: leafNotBefore, notAfter: leafNotAfter);
        return new Chain(root, intermediate, leaf);
    }
}
