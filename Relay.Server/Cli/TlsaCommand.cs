using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Relay.Inbound;

namespace Relay.Server.Cli;

/// <summary>
/// `relay tlsa [--cert FILE] [--json]`: the DANE-EE record (3 1 1: SHA-256 of the SubjectPublicKeyInfo)
/// to publish for our inbound certificate. 3 1 1 survives certificate renewal with the same key, which
/// is why RFC 7671 § 5.1 recommends it.
/// </summary>
internal static class TlsaCommand
{
    public static Command Build()
    {
        var certOption = new Option<string?>("--cert") { Description = "PEM certificate (default: Relay:Tls:Certificate, else the generated self-signed one)" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var command = new Command("tlsa", "print the TLSA record (3 1 1) to publish for the inbound certificate") { certOption, json };
        command.SetAction(parse =>
        {
            var given = parse.GetValue(certOption);
            var path = given ?? DefaultCertificatePath();
            if (given is null && !File.Exists(path))
                throw new UsageException(CliContext.Config().TlsCertificate is null
                    ? $"no certificate yet: Relay:Tls:Certificate is not set and the self-signed one ({path}) is made when the smtp role first starts; give --cert FILE"
                    : $"Relay:Tls:Certificate {path}: file not found");
            X509Certificate2 certificate;
            try
            {
                certificate = X509Certificate2.CreateFromPem(File.ReadAllText(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new UsageException($"{(given is null ? "Relay:Tls:Certificate" : "--cert")} {path}: not a readable PEM certificate ({e.Message})");
            }
            using (certificate)
            {
                var spki = Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
                var hostname = CliContext.Config().Hostname;
                var record = $"_25._tcp.{hostname}. IN TLSA 3 1 1 {spki}";
                Console.WriteLine(parse.GetValue(json)
                    ? JsonSerializer.Serialize(new { usage = 3, selector = 1, matchingType = 1, data = spki, record })
                    : record);
            }
            return RelayCli.Ok;
        });
        return command;
    }

    private static string DefaultCertificatePath()
    {
        var config = CliContext.Config();
        return config.TlsCertificate ?? Path.Combine(config.DataDirectory, ServerCertificate.GeneratedCertificateFile);
    }
}
