using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Relay.Dns;
using Relay.Policy.Certificates;

namespace Relay.Policy.MtaSts;

/// <summary>The fetch's answer: the policy document parsed, or the RFC 8460 result type of the failure and why.</summary>
public abstract record StsFetch
{
    public sealed record Fetched(StsPolicy Policy) : StsFetch;
    public sealed record Failed(TlsRptResult ResultType, string Reason) : StsFetch;
}

/// <param name="Port">Relay:MtaSts:Port; 443 except in tests.</param>
/// <param name="TrustAnchors">Relay:Tls:TrustAnchors; null: the system store.</param>
public sealed record StsFetchOptions(int Port = 443, X509Certificate2Collection? TrustAnchors = null)
{
    /// <summary>RFC 8461 §3.3 suggests at most 64 KiB, and a time limit.</summary>
    public int MaxBytes { get; init; } = 64 * 1024;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// RFC 8461 §3.3: GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt over TLS 1.2+, the server certificate PKIX-valid
/// for exactly that host name (its failure is `sts-webpki-invalid`), no redirects (a 3xx is a failed fetch), a 200 with
/// text/plain, the body cut at <see cref="StsFetchOptions.MaxBytes"/>, the whole exchange within the time limit.
/// The host name is resolved with Relay's own resolver (the one delivery trusts), not the system's.
/// </summary>
public sealed class StsPolicyFetcher(IDnsResolver resolver, StsFetchOptions options)
{
    private readonly PkixVerifier pkix = new(options.TrustAnchors);

    /// <summary>
    /// One handler per fetch: fetches are rare (a policy is cached for max_age), and the certificate verdict of this
    /// fetch's handshake must reach this fetch's answer, which a shared handler's callback cannot tell apart.
    /// </summary>
    private HttpClient NewClient(StrongBox<PkixResult?> verdict) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectCallback = ConnectAsync,
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (sender, certificate, chain, _) =>
            {
                verdict.Value = Validate(sender, certificate, chain);
                return verdict.Value.IsVerified;
            },
        },
    }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    public static string PolicyHost(string domain) => "mta-sts." + domain.TrimEnd('.').ToLowerInvariant();

    public async Task<StsFetch> FetchAsync(string domain, CancellationToken cancellationToken)
    {
        var host = PolicyHost(domain);
        var uri = new UriBuilder(Uri.UriSchemeHttps, host, options.Port, "/.well-known/mta-sts.txt").Uri;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        var verdict = new StrongBox<PkixResult?>();
        using var http = NewClient(verdict);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version11 };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
                return Fail(TlsRptResult.StsPolicyFetchError, $"{uri} answered {(int)response.StatusCode}" +
                    ((int)response.StatusCode is >= 300 and < 400 ? " (redirects are not followed, RFC 8461 §3.3)" : ""));
            if (response.Content.Headers.ContentType ?.MediaType is not { } mediaType || !mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
                return Fail(TlsRptResult.StsPolicyInvalid, $"{uri} served {response.Content.Headers.ContentType?.MediaType ?? "no media type"}, not text/plain");
            var body = await ReadLimitedAsync(response, deadline.Token).ConfigureAwait(false);
            if (body is null) return Fail(TlsRptResult.StsPolicyFetchError, $"{uri} sent more than {options.MaxBytes} bytes");
            return StsPolicyParser.Parse(body) switch
            {
                StsPolicyParse.Valid v => new StsFetch.Fetched(v.Policy),
                StsPolicyParse.Invalid i => Fail(TlsRptResult.StsPolicyInvalid, $"{uri}: {i.Reason}"),
                _ => throw new InvalidOperationException(),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail(TlsRptResult.StsPolicyFetchError, $"{uri} did not answer within {options.Timeout.TotalSeconds:0.#}s");
        }
        catch (HttpRequestException e)
        {
            if (verdict.Value is { IsVerified: false } refused)
                return Fail(TlsRptResult.StsWebpkiInvalid, $"{host}: certificate {refused.Verdict}: {refused.Detail}");
            return Fail(TlsRptResult.StsPolicyFetchError, $"{uri}: {Innermost(e)}");
        }
    }

    private static StsFetch.Failed Fail(TlsRptResult type, string reason) => new(type, reason);

    private async Task<string?> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > options.MaxBytes) return null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[options.MaxBytes + 1];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            total += read;
        }
        if (total > options.MaxBytes) return null;
        // A policy is ASCII; anything that is not UTF-8 becomes U+FFFD and fails the parser's character rules.
        return new UTF8Encoding(false, false).GetString(buffer, 0, total);
    }

    private PkixResult Validate(object sender, X509Certificate? certificate, X509Chain? chain)
    {
        var presented = new List<X509Certificate2>();
        if (certificate is X509Certificate2 leaf) presented.Add(leaf);
        else if (certificate is not null) presented.Add(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        foreach (var extra in chain?.ChainPolicy.ExtraStore ?? [])
            if (presented.Count == 0 || !extra.RawDataMemory.Span.SequenceEqual(presented[0].RawDataMemory.Span)) presented.Add(extra);
        var host = sender is SslStream { TargetHostName: { Length: > 0 } name } ? name : null;
        return host is null
            ? new PkixResult(PkixVerdict.NameMismatch, "no host name to check the certificate against")
            : pkix.Verify(presented, [new ReferenceIdentifier(host)], DateTimeOffset.UtcNow);
    }

    private ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ResolvedHttpsConnection.ConnectAsync(resolver, context, cancellationToken);

    private static string Innermost(Exception e) => ResolvedHttpsConnection.Innermost(e);
}
