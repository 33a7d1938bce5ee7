using Microsoft.Extensions.Configuration;
using Relay.Delivery;
using Relay.Inbound;
using Relay.Server.Configuration;

namespace Relay.EndToEnd.Tests.Configuration;

/// <summary>The schema itself: README agrees with it, its defaults are the libraries' own, and its parsers refuse what they should.</summary>
public class ConfigSchemaTests
{
    [Fact]
    public void Readme_configuration_table_is_the_one_the_schema_makes()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var begin = readme.IndexOf(ConfigMarkdown.Begin, StringComparison.Ordinal);
        var end = readme.IndexOf(ConfigMarkdown.End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, "README.md lacks the generated configuration table markers");
        var table = readme[(begin + ConfigMarkdown.Begin.Length)..end].Trim();
        // On a mismatch, paste the output of `relay config keys` between the markers.
        Assert.Equal(ConfigMarkdown.Table().Trim(), table);
    }

    [Fact]
    public void Every_default_parses_and_lies_in_its_range()
    {
        var empty = new ConfigurationBuilder().Build().GetSection("Relay");
        foreach (var key in ConfigSchema.Keys.Where(k => k.Default is not null))
        {
            switch (key.Kind)
            {
                case ValueKind.Integer: ConfigValues.Integer(empty, key.Name); break;
                case ValueKind.Duration: ConfigValues.Duration(empty, key.Name); break;
                case ValueKind.Boolean: ConfigValues.Boolean(empty, key.Name); break;
                case ValueKind.Choice: Assert.Contains(key.Default, key.Choices); break;
            }
        }
    }

    [Fact]
    public void Schema_defaults_are_the_defaults_of_the_options_they_fill()
    {
        var empty = new ConfigurationBuilder().Build().GetSection("Relay");
        var smtp = new SmtpListenerOptions();
        Assert.Equal(smtp.MessageSizeLimit, ConfigValues.Integer(empty, "Smtp:MessageSizeLimit"));
        Assert.Equal(smtp.RecipientLimit, ConfigValues.Integer(empty, "Smtp:RecipientLimit"));
        Assert.Equal(smtp.HopCountLimit, ConfigValues.Integer(empty, "Smtp:HopCountLimit"));
        Assert.Equal(smtp.ErrorLimit, ConfigValues.Integer(empty, "Smtp:ErrorLimit"));
        Assert.Equal(smtp.SoftErrorLimit, ConfigValues.Integer(empty, "Smtp:SoftErrorLimit"));
        Assert.Equal(smtp.ErrorSleep, ConfigValues.Duration(empty, "Smtp:ErrorSleep"));
        Assert.Equal(smtp.JunkCommandLimit, ConfigValues.Integer(empty, "Smtp:JunkCommandLimit"));
        Assert.Equal(smtp.TextLineLimit, ConfigValues.Integer(empty, "Smtp:TextLineLimit"));
        Assert.Equal(smtp.CommandLineLimit, ConfigValues.Integer(empty, "Smtp:CommandLineLimit"));
        Assert.Equal(smtp.ConnectionLimit, ConfigValues.Integer(empty, "Smtp:ConnectionLimit"));
        Assert.Equal(smtp.ConnectionLimitPerClient, ConfigValues.Integer(empty, "Smtp:ConnectionLimitPerClient"));
        Assert.Equal(smtp.MinimumDataRate, ConfigValues.Integer(empty, "Smtp:MinimumDataRate"));
        Assert.Equal(smtp.IdleTimeout, ConfigValues.Duration(empty, "Smtp:IdleTimeout"));
        Assert.Equal(smtp.DataTimeout, ConfigValues.Duration(empty, "Smtp:DataTimeout"));
        Assert.Equal(smtp.TlsHandshakeTimeout, ConfigValues.Duration(empty, "Smtp:TlsHandshakeTimeout"));
        Assert.Equal(smtp.EnqueueTimeout, ConfigValues.Duration(empty, "Smtp:EnqueueTimeout"));
        Assert.Equal(smtp.GreetingDelay, ConfigValues.Duration(empty, "Smtp:GreetingDelay"));
        Assert.Equal(smtp.AskClientCertificate, ConfigValues.Boolean(empty, "Smtp:AskClientCertificate"));

        var delivery = new DeliveryOptions();
        Assert.Equal(delivery.Port, ConfigValues.Integer(empty, "Delivery:Port"));
        Assert.Equal(delivery.Workers, ConfigValues.Integer(empty, "Delivery:Workers"));
        Assert.Equal(delivery.ClaimBatch, ConfigValues.Integer(empty, "Delivery:ClaimBatch"));
        Assert.Equal(delivery.DestinationConcurrency, ConfigValues.Integer(empty, "Delivery:DestinationConcurrency"));
        Assert.Equal(delivery.SessionIdle, ConfigValues.Duration(empty, "Delivery:SessionIdle"));
        Assert.Equal(delivery.Lease, ConfigValues.Duration(empty, "Delivery:Lease"));
        Assert.Equal(delivery.FirstRetry, ConfigValues.Duration(empty, "Delivery:FirstRetry"));
        Assert.Equal(delivery.MaxRetry, ConfigValues.Duration(empty, "Delivery:MaxRetry"));
        Assert.Equal(delivery.Lifetime, ConfigValues.Duration(empty, "Delivery:Lifetime"));
        Assert.Equal(delivery.IdlePoll, ConfigValues.Duration(empty, "Delivery:IdlePoll"));
        Assert.Null(ConfigValues.OptionalDuration(empty, "Delivery:DelayWarning"));
    }

    [Theory]
    [InlineData("300s", 300)]
    [InlineData("5m", 300)]
    [InlineData("1.5h", 5400)]
    [InlineData("2d", 172_800)]
    [InlineData("1w", 604_800)]
    [InlineData("250ms", 0.25)]
    [InlineData("00:05:00", 300)]
    [InlineData("1.00:00:00", 86_400)]
    public void Durations_with_a_unit_or_a_clock_are_read(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ConfigParsers.Duration("k", text, TimeSpan.Zero, TimeSpan.FromDays(3650)));

    [Theory]
    [InlineData("300", "needs a unit")]
    [InlineData("3", "needs a unit")]
    [InlineData("1e20s", "plain number")]
    [InlineData("Infinitys", "duration")]
    [InlineData("NaNs", "duration")]
    [InlineData("-5s", "duration")]
    [InlineData("5 parsecs", "plain number")]
    [InlineData("5y", "unknown unit")]
    [InlineData("99999999999d", "out of range")]
    [InlineData("99999999:00:00", "hh:mm:ss")]
    [InlineData("-00:05:00", "hh:mm:ss")]
    public void Durations_without_a_unit_or_out_of_range_are_refused_naming_the_key(string text, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParsers.Duration("Relay:Smtp:IdleTimeout", text, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)));
        Assert.StartsWith($"Relay:Smtp:IdleTimeout = \"{text}\"", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("Smtp:Lisen", "Relay:Smtp:Listen")]
    [InlineData("Smtp:IdleTimout", "Relay:Smtp:IdleTimeout")]
    [InlineData("Delivery:Worker", "Relay:Delivery:Workers")]
    [InlineData("Domain", "Relay:Domains")]
    [InlineData("Route:example.org", "Relay:Routes:<domain>")]
    [InlineData("Ipsec:Enable", "Relay:Ipsec:Enabled")]
    public void A_mistyped_key_gets_the_nearest_known_key(string typo, string expected)
    {
        Assert.Null(ConfigValidator.Match(typo));
        Assert.Equal(expected, ConfigValidator.Nearest(typo));
    }

    [Theory]
    [InlineData("Smtp:Listen:0")]
    [InlineData("Smtp:Listen")]
    [InlineData("Routes:example.org")]
    [InlineData("Smtp:Recipients:example.org:3")]
    [InlineData("Smtp:Credentials:alice")]
    [InlineData("ipsec:controlsocket")]
    [InlineData("Metrics:Listen")]
    public void Keys_of_the_schema_lists_and_maps_are_known(string path) => Assert.NotNull(ConfigValidator.Match(path));

    [Theory]
    [InlineData("Smtp:Listen:x")]
    [InlineData("Routes:example.org:0")]
    [InlineData("Smtp:Credentials")]
    [InlineData("Hostname:0")]
    public void Paths_that_do_not_fit_a_row_are_unknown(string path) => Assert.Null(ConfigValidator.Match(path));

    [Theory]
    [InlineData("10.0.0.1/8", "10.0.0.0/8")]
    [InlineData("192.168.1.77/24", "192.168.1.0/24")]
    [InlineData("2001:db8::1/32", "2001:db8::/32")]
    public void Networks_with_host_bits_are_refused_naming_the_network_meant(string value, string meant)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParsers.Cidr("Relay:TrustedNetworks:0", value));
        Assert.Contains($"did you mean {meant}?", e.Message);
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("127.0.0.1")]
    [InlineData("2001:db8::/32")]
    [InlineData("0.0.0.0/0")]
    public void Networks_without_host_bits_are_accepted(string value) => ConfigParsers.Cidr("k", value);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "relay.sln"))) return dir.FullName;
        throw new InvalidOperationException("relay.sln not found above " + AppContext.BaseDirectory);
    }
}
