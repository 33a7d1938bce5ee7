using System.CommandLine;
using Relay.Db;

namespace Relay.Server.Cli;

/// <summary>
/// <c>relay web hash-password</c>: reads the password from standard input (first line, so it never
/// shows in the process list or shell history) and prints the hash for <c>Relay:Web:AdminPasswordHash</c>.
/// Build() returns the <c>hash-password</c> command; the caller adds it under <c>web</c>.
/// </summary>
public static class WebHashPasswordCommand
{
    /// <summary>Shorter passwords fall to an offline guess against a leaked hash however slow the hash is.</summary>
    public const int MinimumLength = 12;

    public static Command Build(TextReader? input = null)
    {
        var command = new Command("hash-password", "Read a password on stdin and print its hash for Relay:Web:AdminPasswordHash");
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var line = (input ?? Console.In).ReadLine();
            var password = line?.TrimEnd('\r');
            if (string.IsNullOrEmpty(password))
            {
                error.WriteLine("relay web hash-password: no password on standard input (e.g. `printf '%s\\n' \"$PASSWORD\" | relay web hash-password`)");
                return 2;
            }
            if (password.EnumerateRunes().Count() < MinimumLength)
            {
                error.WriteLine($"relay web hash-password: the password is {password.EnumerateRunes().Count()} characters; use at least {MinimumLength} (a passphrase of a few words is easiest)");
                return 2;
            }
            output.WriteLine(PasswordHasher.Hash(password));
            return 0;
        });
        return command;
    }
}
