using System.CommandLine;
using Relay.Policy.Dane;

namespace Relay.Server.Cli;

/// <summary>
/// `relay dane verify --tlsa "U S M HEX" [--tlsa …] --chain FILE.pem --name BASE [--name NEXTHOP] [--json]`:
/// runs the DANE verifier delivery uses (Relay.Policy's DaneVerifier, via DaneVerifyTool) on a PEM chain,
/// leaf first. The records are taken as DNSSEC-secure: the operator vouches for them.
/// JSON: {"result":"verified|no-usable-tlsa|no-match|name-mismatch|chain-invalid","usage":N,"depth":N} plus
/// additive "tlsa" (the matching record) and "detail". Exit 0 only for verified, 1 otherwise, 2 bad input.
/// Build() returns the `dane` command with `verify` under it.
/// </summary>
internal static class DaneVerifyCommand
{
    public static Command Build()
    {
        var tlsa = new Option<string[]>("--tlsa")
        {
            Description = "TLSA record data as \"USAGE SELECTOR MATCHING-TYPE HEX\" (repeatable)",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var chain = new Option<string>("--chain")
        {
            Description = "PEM file with the server's certificate chain, leaf first",
            Required = true,
        };
        var name = new Option<string[]>("--name")
        {
            Description = "Reference name: the TLSA base domain, then optionally the next-hop domain (repeatable)",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var verify = new Command("verify", "Check a certificate chain against TLSA records exactly as delivery does")
        {
            tlsa, chain, name, json,
        };
        verify.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if ((parseResult.GetValue(name) ?? []).Length > 2)
            {
                await error.WriteLineAsync("relay dane verify: at most two --name (the TLSA base domain, then the next-hop domain)").ConfigureAwait(false);
                return RelayCli.BadInput;
            }
            var path = parseResult.GetValue(chain) ?? "";
            string pem;
            try
            {
                pem = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                await error.WriteLineAsync($"relay dane verify: cannot read --chain '{path}': {e.Message}").ConfigureAwait(false);
                return RelayCli.BadInput;
            }
            var result = DaneVerifyTool.Run(parseResult.GetValue(tlsa) ?? [], pem, path, parseResult.GetValue(name) ?? [],
                parseResult.GetValue(json), DateTimeOffset.UtcNow);
            if (result.Stderr is { } message) await error.WriteLineAsync(message).ConfigureAwait(false);
            await output.WriteAsync(result.Stdout).ConfigureAwait(false);
            return result.ExitCode;
        });
        return new Command("dane", "DANE (RFC 7672) tools") { verify };
    }
}
