using Relay.TestKit;

namespace Relay.Policy.Tests.Cli;

/// <summary>
/// A root → intermediate → leaf PKI made by the openssl command line (not .NET), and TLSA data computed the
/// way operators do: openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256.
/// </summary>
public sealed class OpensslPki : IDisposable
{
    private const string Script = """
        set -eu
        ext() { printf '%s\n' "$@" > "$EXTFILE"; }
        EXTFILE=ext.cnf
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
            -subj "/CN=OpenSSL Test Root" -days 30 \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key -out int.csr -subj "/CN=OpenSSL Test Intermediate" 2>/dev/null
        ext "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign"
        openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -out int.pem -days 20 -extfile ext.cnf 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=mx.example.net" 2>/dev/null
        ext "basicConstraints=CA:FALSE" "subjectAltName=DNS:mx.example.net" "extendedKeyUsage=serverAuth"
        openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -out leaf.pem -days 10 -extfile ext.cnf 2>/dev/null
        cat leaf.pem int.pem > chain.pem
        openssl x509 -in leaf.pem -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > ee311
        openssl x509 -in leaf.pem -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha512 -r | cut -d' ' -f1 > ee312
        openssl x509 -in leaf.pem -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > ee301
        openssl x509 -in int.pem -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > ta201
        openssl x509 -in int.pem -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > ta211
        openssl x509 -in root.pem -outform DER | xxd -p | tr -d '\n' > ta200
        openssl x509 -in root.pem -pubkey -noout | openssl pkey -pubin -outform DER | xxd -p | tr -d '\n' > ta210
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.pem \
            -subj "/CN=OpenSSL Other Root" -days 30 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
        openssl x509 -in other.pem -pubkey -noout | openssl pkey -pubin -outform DER | xxd -p | tr -d '\n' > other210
        """;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "relay-openssl-" + Guid.NewGuid().ToString("N")[..12]);

    public static async Task<OpensslPki> CreateAsync()
    {
        var pki = new OpensslPki();
        System.IO.Directory.CreateDirectory(pki.Directory);
        await File.WriteAllTextAsync(Path.Combine(pki.Directory, "make.sh"), Script);
        await Processes.RunAsync("/bin/bash", ["make.sh"], TimeSpan.FromSeconds(60), pki.Directory);
        return pki;
    }

    public string Read(string name) => File.ReadAllText(Path.Combine(Directory, name)).Trim();

    public string Path_(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
