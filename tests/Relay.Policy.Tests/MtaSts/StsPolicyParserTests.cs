using Relay.Policy.MtaSts;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>RFC 8461 §3.2 policies: strict, pure, every input answered (a policy or why not).</summary>
public class StsPolicyParserTests
{
    private static StsPolicy Valid(string document) =>
        Assert.IsType<StsPolicyParse.Valid>(StsPolicyParser.Parse(document)).Policy;

    private static string Invalid(string document) =>
        Assert.IsType<StsPolicyParse.Invalid>(StsPolicyParser.Parse(document)).Reason;

    [Fact]
    public void The_rfc_example_parses_with_crlf_lf_and_without_a_final_line_end()
    {
        var expected = new StsPolicy(StsMode.Enforce, ["mail.example.com", "*.example.net", "backupmx.example.com"], TimeSpan.FromSeconds(604800));
        const string lf = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n";
        Assert.Equal(expected, Valid(lf));
        Assert.Equal(expected, Valid(lf.Replace("\n", "\r\n")));
        Assert.Equal(expected, Valid(lf.TrimEnd('\n')));
        Assert.Equal(expected, Valid(lf.Replace(": ", ":\t ").Replace("\n", "  \n")));
    }

    [Fact]
    public void Fields_in_any_order_unknown_extensions_ignored_and_mx_lower_cased()
    {
        var p = Valid("max_age: 60\nmx: MX.Example.COM\nfuture_field.v2: some value here\nmode: testing\nversion: STSv1\n");
        Assert.Equal(new StsPolicy(StsMode.Testing, ["mx.example.com"], TimeSpan.FromMinutes(1)), p);
    }

    [Fact]
    public void Mode_none_needs_no_mx()
    {
        Assert.Equal(StsMode.None, Valid("version: STSv1\nmode: none\nmax_age: 0\n").Mode);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("mode: enforce\nmx: a.example\nmax_age: 1\n", "no version")]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "not STSv1")]
    [InlineData("version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", "not STSv1")]
    [InlineData("version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode")]
    [InlineData("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", "mode 'Enforce'")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "max_age '31557601'")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "max_age '-1'")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n", "max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 1\n", "without any mx")]
    [InlineData("version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n", "'mode' appears more than once")]
    [InlineData("version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1\n", "mx '*.*.example'")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mail*.example\nmax_age: 1\n", "mx 'mail*.example'")]
    [InlineData("version: STSv1\nmode: enforce\nmx: localhost\nmax_age: 1\n", "mx 'localhost'")]
    [InlineData("version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n", "mx '-a.example'")]
    [InlineData("version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 1\n", "line 2: empty line")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n\n", "line 5: empty line")]
    [InlineData("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n", "line 2: expected 'key: value'")]
    [InlineData("version: STSv1\r\rmode: enforce\nmx: a.example\nmax_age: 1\n", "control character")]
    [InlineData("version: STSv1\nmode: enforce\u0000\nmx: a.example\nmax_age: 1\n", "control character")]
    [InlineData(" version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", "not a field name")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n_ext: x\n", "not a field name")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\next:\n", "no value")]
    public void Anything_malformed_makes_the_whole_policy_invalid(string document, string why)
    {
        Assert.Contains(why, Invalid(document));
    }

    [Fact]
    public void Every_prefix_of_a_policy_gets_an_answer_and_only_complete_ones_are_policies()
    {
        const string document = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n";
        var full = Valid(document);
        var valid = 0;
        for (var length = 0; length <= document.Length; length++)
        {
            var prefix = document[..length];
            var answer = StsPolicyParser.Parse(prefix); // never throws
            if (answer is StsPolicyParse.Valid v)
            {
                valid++;
                // Only the cuts inside or after the last field can be complete policies, and they say max_age is some prefix of 86400.
                Assert.True(length >= document.IndexOf("max_age: 8", StringComparison.Ordinal) + 10, $"prefix of {length} parsed: {prefix}");
                Assert.Equal(full.Mx, v.Policy.Mx);
            }
            else Assert.False(string.IsNullOrEmpty(Assert.IsType<StsPolicyParse.Invalid>(answer).Reason));
        }
        // "…max_age: 8", "86", "864", "8640", "86400", then "86400\r" (a CR before nothing is a control character), "86400\r\n".
        Assert.Equal(6, valid);
    }

    [Theory]
    [InlineData("mail.example.com", true)]
    [InlineData("MAIL.example.com.", true)]
    [InlineData("a.example.net", true)]
    [InlineData("example.net", false)]
    [InlineData("b.a.example.net", false)]
    [InlineData("xexample.net", false)]
    [InlineData("mail.example.com.evil.test", false)]
    public void Mx_patterns_match_exact_names_and_a_wildcard_matches_one_label(string host, bool matches)
    {
        var policy = new StsPolicy(StsMode.Enforce, ["mail.example.com", "*.example.net"], TimeSpan.FromDays(1));
        Assert.Equal(matches, policy.MatchesMx(host));
    }
}
