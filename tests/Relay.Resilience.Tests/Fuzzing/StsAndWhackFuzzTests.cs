using System.Text;
using Relay.Delivery.Ipsec;
using Relay.Policy.MtaSts;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// Issue 13 §6, text the relay reads from others: MTA-STS policy documents and `_mta-sts` TXT records (Relay.Policy/
/// MtaSts; a bad one is an Invalid/NotAvailable answer, never an exception) and `ipsec whack` output (Relay.Delivery/
/// Ipsec, recorded from libreswan 4.10 on this machine; whatever pluto prints is read as far as it makes sense).
/// </summary>
public sealed class StsAndWhackFuzzTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyList<byte[]> Policies = Mutator.Ascii(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
        "version: STSv1\nmode: testing\nmx: mx1.example.org\nmax_age: 86400\n",
        "version: STSv1\r\nmode: none\r\nmax_age: 31557600\r\n");

    private static readonly IReadOnlyList<byte[]> Records = Mutator.Ascii(
        "v=STSv1; id=20160831085700Z;", "v=STSv1;id=1", "v=STSv1; id=abc123; ext=value");

    [Fact]
    public void Damaged_mta_sts_policies_and_records_are_valid_or_invalid_never_throw()
    {
        Fuzz.Run(output, "mta-sts-policy", 1331, 20_000, Policies, bytes => StsPolicyParser.Parse(Encoding.UTF8.GetString(bytes)) is StsPolicyParse.Valid);
        Fuzz.Run(output, "mta-sts-txt", 1332, 10_000, Records, bytes =>
        {
            var text = Encoding.UTF8.GetString(bytes);
            // Also as one of several TXT strings, as DNS may hand them over.
            _ = StsTxtRecord.Parse([text, "v=spf1 -all"]);
            return StsTxtRecord.Parse([text]) is StsDiscovery.Available;
        });
    }

    [Fact]
    public void Damaged_whack_output_is_read_without_throwing()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Corpus", "whack");
        var corpus = Directory.GetFiles(directory, "*.txt").Select(File.ReadAllBytes).Where(b => b.Length > 0).ToList();
        Assert.True(corpus.Count >= 10, $"whack corpus missing in {directory}");
        Fuzz.Run(output, "whack-output", 1341, 2_000, corpus, bytes =>
        {
            var text = Encoding.UTF8.GetString(bytes);
            var parsed = WhackOutput.ParseTraffic(text).Count + WhackOutput.ParseShunts(text).Count + WhackOutput.ParseStates(text).Count;
            _ = WhackOutput.ParseInitiation(text);
            return parsed > 0;
        }, corpusIsValid: false);
    }
}
