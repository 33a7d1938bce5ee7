using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Relay.Policy.Dane;
using Relay.Server.Operations;

namespace Relay.Server.Cli;

/// <summary>
/// `relay tlsa [--cert FILE] [--check] [--json]`: the DANE-EE record (3 1 1: SHA-256 of the SubjectPublicKeyInfo) to
/// publish at <c>_25._tcp.HOST</c> for our inbound certificate. 3 1 1 survives certificate renewal with the same key,
/// which is why RFC 7671 § 5.1 recommends it. With --check: asks DNS (Relay:Dns:Servers) whether a DNSSEC-secure TLSA
/// RRset for our hostname matches the certificate, as the smtp role does every hour; exit 1 when it does not.
/// </summary>
internal static class TlsaCommand
{
    public static Command Build()
    {
        var certOption = new Option<string?>("--cert") { Description = "PEM certificate (default: Relay:Tls:Certificate, else the generated self-signed one)" };
        var check = new Option<bool>("--check") { Description = "check the published TLSA RRset against the certificate (exit 1 on a mismatch)" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var command = new Command("tlsa", "print the TLSA record (3 1 1) to publish for the inbound certificate, or --check the published one")
            { certOption, check, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = CliContext.Config();
            var given = parse.GetValue(certOption);
            var path = given ?? OwnTlsaProbe.CertificatePath(config);
            if (given is null && !File.Exists(path))
                throw new UsageException(config.TlsCertificate is null
                    ? $"no certificate yet: Relay:Tls:Certificate is not set and the self-signed one ({path}) is made when the smtp role first starts; give --cert FILE"
                    : $"Relay:Tls:Certificate {path}: file not found");
            X509Certificate2 certificate;
            try
            {
                using var chain = new Disposing(OwnTlsaProbe.LoadChain(path));
                certificate = X509CertificateLoader.LoadCertificate(chain.Collection[0].RawData);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new UsageException($"{(given is null ? "Relay:Tls:Certificate" : "--cert")} {path}: not a readable PEM certificate ({e.Message})");
            }
            string owner = OwnTlsaCheck.Owner(config.Hostname), record;
            using (certificate)
                record = OwnTlsaCheck.Record(certificate).ToString().ToLowerInvariant();
            var line = $"{owner}. IN TLSA {record}";
            if (!parse.GetValue(check))
            {
                Console.WriteLine(parse.GetValue(json)
                    ? JsonSerializer.Serialize(new { owner, usage = 3, selector = 1, matchingType = 1, data = record[6..], record = line })
                    : line);
                return RelayCli.Ok;
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            var result = await OwnTlsaProbe.CheckAsync(config, path, deadline.Token);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { owner, verdict = result.VerdictWord, detail = result.Detail, expected = line })
                : $"{owner}: {result.VerdictWord}: {result.Detail}");
            return result.IsProblem ? RelayCli.Negative : RelayCli.Ok;
        });
        return command;
    }

    /// <summary>Disposes every certificate of a loaded chain.</summary>
    private sealed class Disposing(X509Certificate2Collection collection) : IDisposable
    {
        public X509Certificate2Collection Collection { get; } = collection;

        public void Dispose()
        {
            foreach (var certificate in Collection) certificate.Dispose();
        }
    }
}
