using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Relay.Dns;
using Relay.Policy.Certificates;

namespace Relay.Delivery.TlsRpt;

/// <summary>
/// RFC 8460 §5.4: the gzip'd report POSTed to an `https:` rua as `application/tlsrpt+gzip`. The server's certificate must
/// be PKIX-valid for the URI's host (Relay:Tls:TrustAnchors, or the system store), TLS 1.2 or later, no redirects, one
/// deadline for the whole exchange; the host is resolved with Relay's own resolver, the one delivery trusts. A 2xx answer
/// is success; anything else is a failure with the status.
/// </summary>
public sealed class TlsRptHttpsPoster(IDnsResolver resolver, TlsRptOptions options)
{
    private readonly PkixVerifier pkix = new(options.TrustAnchors);

    /// <returns>Null on success, else why the POST failed.</returns>
    public async Task<string?> PostAsync(Uri destination, byte[] gzippedReport, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.HttpsTimeout);
        string? refused = null;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectCallback = ConnectAsync,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                {
                    refused = Validate(destination.IdnHost, certificate, chain);
                    return refused is null;
                },
            },
        }) { Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using var content = new ByteArrayContent(gzippedReport);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/" + TlsRptMail.MediaSubtype);
            using var request = new HttpRequestMessage(HttpMethod.Post, destination) { Content = content, Version = HttpVersion.Version11 };
            using var response = await http.SendAsync(request, deadline.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : $"{destination} answered {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{destination} did not answer within {options.HttpsTimeout.TotalSeconds:0.#}s";
        }
        catch (HttpRequestException e)
        {
            return refused is not null ? $"{destination.IdnHost}: certificate refused: {refused}" : $"{destination}: {Innermost(e)}";
        }
    }

    private string? Validate(string host, X509Certificate? certificate, X509Chain? chain)
    {
        var presented = new List<X509Certificate2>();
        if (certificate is X509Certificate2 leaf) presented.Add(leaf);
        else if (certificate is not null) presented.Add(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        foreach (var extra in chain?.ChainPolicy.ExtraStore ?? [])
            if (presented.Count == 0 || !extra.RawDataMemory.Span.SequenceEqual(presented[0].RawDataMemory.Span)) presented.Add(extra);
        var result = pkix.Verify(presented, [new ReferenceIdentifier(host)], DateTimeOffset.UtcNow);
        return result.IsVerified ? null : $"{result.Verdict}: {result.Detail}";
    }

    private ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ResolvedHttpsConnection.ConnectAsync(resolver, context, cancellationToken);

    private static string Innermost(Exception e) => ResolvedHttpsConnection.Innermost(e);
}
