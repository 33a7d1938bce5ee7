using Relay.Web.Pages;

namespace Relay.Web.Tests;

/// <summary>The policy form takes destinations by Relay.Policy's rule, the same as `relay policy set`.</summary>
public sealed class PolicyFormTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("999")]
    [InlineData("[999.1.1.1]:25")]
    [InlineData("[")]
    public void Broken_destinations_are_a_field_error(string destination)
    {
        var (_, errors) = PolicyForm.ParseDestination(destination, "dane", null, null, null);
        Assert.Equal("destination", Assert.Single(errors).Field);
    }

    [Theory]
    [InlineData("Example.com.", "example.com")]
    [InlineData("[10.0.0.5]", "[10.0.0.5]:25")]
    public void Good_destinations_are_stored_in_canonical_form(string destination, string stored)
    {
        var (input, errors) = PolicyForm.ParseDestination(destination, "dane", null, null, null);
        Assert.Empty(errors);
        Assert.Equal(stored, input.Destination);
    }
}
