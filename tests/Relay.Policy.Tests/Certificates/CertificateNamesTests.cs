using Relay.Policy.Certificates;

namespace Relay.Policy.Tests.Certificates;

public class CertificateNamesTests
{
    [Theory]
    [InlineData("mx.example.com", "mx.example.com", true)]
    [InlineData("MX.Example.COM.", "mx.example.com", true)]
    [InlineData("*.example.com", "mx.example.com", true)]
    [InlineData("*.example.com", "a.mx.example.com", false)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("m*.example.com", "mx.example.com", false)]
    [InlineData("mx.*.com", "mx.example.com", false)]
    [InlineData("*.com", "example.com", false)]
    [InlineData("*", "example", false)]
    [InlineData("other.example.com", "mx.example.com", false)]
    public void Exact_reference_identifier(string presented, string reference, bool expected) =>
        Assert.Equal(expected, CertificateNames.Matches(presented, new ReferenceIdentifier(reference)));

    [Theory]
    [InlineData("mx1.example.com", true)]
    [InlineData("a.b.example.com", true)]
    [InlineData("example.com", false)]
    [InlineData("*.example.com", true)]
    [InlineData("*.mx.example.com", true)]
    [InlineData("badexample.com", false)]
    [InlineData("*.com", false)]
    public void Subdomain_reference_identifier_accepts_names_strictly_below(string presented, bool expected) =>
        Assert.Equal(expected, CertificateNames.Matches(presented, ReferenceIdentifier.Parse(".example.com")));

    [Fact]
    public void Common_name_is_presented_only_without_dns_subject_alt_names()
    {
        Assert.Equal(["cn-only.example"], CertificateNames.Presented(TestPki.Leaf(null, [], cn: "cn-only.example")));
        Assert.Equal(["san.example"], CertificateNames.Presented(TestPki.Leaf(null, ["san.example"], cn: "cn.example")));
    }
}
