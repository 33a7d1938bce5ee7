using System.Text.Json;
using Relay.Policy.Dane;

namespace Relay.Policy.Tests.Cli;

/// <summary>`relay dane verify`'s body against a PKI and TLSA data made with the openssl command line.</summary>
public class DaneVerifyToolTests : IAsyncLifetime
{
    private OpensslPki _pki = null!;

    public async Task InitializeAsync() => _pki = await OpensslPki.CreateAsync();

    public Task DisposeAsync()
    {
        _pki.Dispose();
        return Task.CompletedTask;
    }

    private DaneVerifyTool.Output Run(string[] tlsa, string[]? names = null, string chain = "chain.pem") =>
        DaneVerifyTool.Run(tlsa, _pki.Read(chain), chain, names ?? ["mx.example.net"], json: true, DateTimeOffset.UtcNow);

    private static JsonElement Json(DaneVerifyTool.Output o) => JsonDocument.Parse(o.Stdout).RootElement;

    [Fact]
    public void Openssl_made_dane_ee_spki_sha256_record_verifies_at_depth_zero()
    {
        var o = Run([$"3 1 1 {_pki.Read("ee311")}"]);
        Assert.Equal(0, o.ExitCode);
        Assert.Equal("verified", Json(o).GetProperty("result").GetString());
        Assert.Equal(3, Json(o).GetProperty("usage").GetInt32());
        Assert.Equal(0, Json(o).GetProperty("depth").GetInt32());
    }

    [Fact]
    public void Openssl_made_sha512_and_full_certificate_digests_verify()
    {
        Assert.Equal(0, Run([$"3 1 2 {_pki.Read("ee312")}"]).ExitCode);
        Assert.Equal(0, Run([$"3 0 1 {_pki.Read("ee301")}"]).ExitCode);
    }

    [Fact]
    public void Openssl_made_dane_ta_records_verify_at_the_intermediate()
    {
        foreach (var record in new[] { $"2 0 1 {_pki.Read("ta201")}", $"2 1 1 {_pki.Read("ta211")}" })
        {
            var o = Run([record]);
            Assert.Equal(0, o.ExitCode);
            Assert.Equal(2, Json(o).GetProperty("usage").GetInt32());
            Assert.Equal(1, Json(o).GetProperty("depth").GetInt32());
        }
    }

    [Fact]
    public void Openssl_root_as_full_record_anchors_a_chain_that_does_not_carry_it()
    {
        var o = Run([$"2 0 0 {_pki.Read("ta200")}"]);
        Assert.Equal(0, o.ExitCode);
        Assert.Equal(2, Json(o).GetProperty("depth").GetInt32());
    }

    [Fact]
    public void Dane_ta_with_a_name_the_leaf_lacks_is_name_mismatch_and_exits_1()
    {
        var o = Run([$"2 0 1 {_pki.Read("ta201")}"], ["other.example.net"]);
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("name-mismatch", Json(o).GetProperty("result").GetString());
        // The second --name (the next-hop domain) is accepted too.
        Assert.Equal(0, Run([$"2 0 1 {_pki.Read("ta201")}"], ["other.example.net", "mx.example.net"]).ExitCode);
    }

    [Fact]
    public void Altered_digest_is_no_match_and_pkix_usage_is_no_usable_tlsa()
    {
        var hex = _pki.Read("ee311");
        var altered = (hex[0] == '0' ? "1" : "0") + hex[1..];
        var o = Run([$"3 1 1 {altered}"]);
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("no-match", Json(o).GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, Json(o).GetProperty("usage").ValueKind);
        Assert.Equal("no-usable-tlsa", Json(Run([$"1 1 1 {hex}"])).GetProperty("result").GetString());
    }

    [Fact]
    public void Leaf_alone_under_dane_ta_is_chain_invalid()
    {
        var o = Run([$"2 1 1 {_pki.Read("ta211")}"], chain: "leaf.pem");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("no-match", Json(o).GetProperty("result").GetString());
        var full = Run([$"2 0 0 {_pki.Read("ta200")}"], chain: "leaf.pem");
        Assert.Equal("chain-invalid", Json(full).GetProperty("result").GetString());
    }

    [Theory]
    [InlineData("3 1 1 XYZ", "'XYZ' is not hexadecimal")]
    [InlineData("3 1", "expected")]
    [InlineData("3 x 1 AB", "selector 'x'")]
    [InlineData("300 1 1 AB", "usage '300'")]
    [InlineData("3 1 1 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00", "needs a 32-byte digest (64 hex digits), got 33 bytes")]
    [InlineData("3 1 2 AB", "needs a 64-byte digest")]
    public void Bad_tlsa_text_exits_2_naming_the_value(string tlsa, string expected)
    {
        var o = DaneVerifyTool.Run([tlsa], _pki.Read("chain.pem"), "chain.pem", ["mx.example.net"], false, DateTimeOffset.UtcNow);
        Assert.Equal(2, o.ExitCode);
        Assert.Contains(expected, o.Stderr);
    }

    [Fact]
    public void Bad_pem_exits_2_naming_the_file()
    {
        var noCert = DaneVerifyTool.Run([$"3 1 1 {_pki.Read("ee311")}"], "hello", "x.pem", ["mx.example.net"], false, DateTimeOffset.UtcNow);
        Assert.Equal(2, noCert.ExitCode);
        Assert.Contains("'x.pem'", noCert.Stderr);
        var broken = DaneVerifyTool.Run([$"3 1 1 {_pki.Read("ee311")}"], "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "y.pem",
            ["mx.example.net"], false, DateTimeOffset.UtcNow);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("'y.pem'", broken.Stderr);
    }
}
