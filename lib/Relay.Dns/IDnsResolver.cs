namespace Relay.Dns;

/// <summary>What the policy and delivery layers depend on, so their tests can substitute answers.</summary>
public interface IDnsResolver
{
    /// <summary>Never throws for DNS failures: every outcome is a <see cref="DnsResult"/>. Throws only
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.</summary>
    Task<DnsResult> QueryAsync(string name, DnsType type, CancellationToken cancellationToken = default);
}
