using Relay.Policy.Classification;
using Relay.Policy.Planning;
using Relay.Smtp.Client;

namespace Relay.Policy.Tests.Classification;

/// <summary>The network layer's facts through the classifier: passed through beside the transport, and the class's veto.</summary>
public class NetworkClassificationTests
{
    private static readonly NetworkFacts IkeOnly = new(IpsecClass.Private, NetworkProtection.None, NetworkReason.IkeOnlyChildFailed, "IKE SA up");
    private static readonly NetworkFacts Anonymous = new(IpsecClass.Private, NetworkProtection.IpsecAnonymous, null, "ESP SA #2");

    [Fact]
    public void Private_without_an_sa_and_block_forbid_connecting_naming_the_reason()
    {
        var (allowed, refusal) = OutcomeClassifier.NetworkAllows(IkeOnly);
        Assert.False(allowed);
        Assert.Contains("ipsec class private requires IPsec: none (ike-only-child-failed: IKE SA up)", refusal);
        Assert.False(OutcomeClassifier.NetworkAllows(new NetworkFacts(IpsecClass.Block, NetworkProtection.Blocked, NetworkReason.ClassBlock)).Allowed);
        Assert.True(OutcomeClassifier.NetworkAllows(Anonymous).Allowed);
        Assert.True(OutcomeClassifier.NetworkAllows(IkeOnly with { Class = IpsecClass.PrivateOrClear }).Allowed);
        Assert.True(OutcomeClassifier.NetworkAllows(NetworkFacts.Disabled).Allowed);
        Assert.True(OutcomeClassifier.NetworkAllows(null).Allowed);
    }

    [Fact]
    public void The_outcome_carries_the_network_facts_whether_or_not_mail_was_sent()
    {
        var plan = ClassifierTests.Peer(PolicyLevel.May, PeerMode.Opportunistic);
        var sent = OutcomeClassifier.Classify(plan, ClassifierTests.Tls(null, new RecipientReply("a@b.test", 250)) with { Network = Anonymous });
        Assert.Equal(TransportSecurity.Encrypted, sent.Transport);
        Assert.Equal(Anonymous, sent.Network);
        var refused = OutcomeClassifier.Classify(plan, new AttemptReport(ClientStage.Connect, Error: "ipsec class private requires IPsec",
            Recipients: [new RecipientReply("a@b.test", null)], Network: IkeOnly));
        Assert.True(refused.NothingSent);
        Assert.Equal(IkeOnly, refused.Network);
        Assert.Equal(RecipientFate.Deferred, Assert.Single(refused.Recipients).Fate);
    }

    [Fact]
    public void Network_words_are_the_schemas_and_the_reason_text_joins_word_and_detail()
    {
        Assert.Equal(["none", "ipsec-anonymous", "ipsec-authenticated", "blocked"], Enum.GetValues<NetworkProtection>().Select(p => p.ToWire()));
        Assert.Equal(["clear", "clear-or-private", "private-or-clear", "private", "block"], Enum.GetValues<IpsecClass>().Select(c => c.ToWire()));
        Assert.Equal("ipsec-disabled", NetworkFacts.Disabled.ReasonText);
        Assert.Equal("ike-only-child-failed: IKE SA up", IkeOnly.ReasonText);
        Assert.True(NetworkWire.TryParseClass(" Private ", out var cls) && cls == IpsecClass.Private);
        Assert.False(NetworkWire.TryParseClass("privat", out _));
        Assert.Equal([false, true, true, true, false], Enum.GetValues<IpsecClass>().Select(c => c.Triggers()));
    }
}
