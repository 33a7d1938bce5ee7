namespace Relay.TestKit.Smtp;

/// <summary>
/// What every private Postfix instance of the tests shares: a temp directory holding its config, queue, data
/// and log (there is no syslog here), the main.cf lines that make it self-contained, the master.cf services,
/// and stopping it. <see cref="PostfixInstance"/> (a sender) and <see cref="Peers.PostfixPeer"/> (a receiver)
/// add only what makes them different.
/// </summary>
public static class PostfixDirectory
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A new world-readable directory with queue/ and data/ (owned by postfix).</summary>
    public static async Task<string> CreateAsync(string prefix)
    {
        var directory = Directory.CreateTempSubdirectory(prefix).FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.Combine(directory, "queue"));
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        await Processes.RunAsync("chown", ["postfix", Path.Combine(directory, "data")], CommandTimeout);
        return directory;
    }

    public static string LogFile(string directory) => Path.Combine(directory, "maillog");

    /// <summary>main.cf lines every instance needs: its own directories and log, no local delivery, no aliases.</summary>
    public static List<string> MainCf(string directory, string hostname, string domain) =>
    [
        "compatibility_level = 3.6",
        $"queue_directory = {directory}/queue",
        $"data_directory = {directory}/data",
        "command_directory = /usr/sbin",
        "daemon_directory = /usr/lib/postfix/sbin",
        "meta_directory = /etc/postfix",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        $"myhostname = {hostname}",
        $"mydomain = {domain}",
        $"myorigin = {hostname}",
        "inet_protocols = ipv4",
        "mydestination =",
        $"maillog_file = {LogFile(directory)}",
        $"maillog_file_prefixes = {directory}",
        "alias_maps =",
        "alias_database =",
        "local_recipient_maps =",
    ];

    /// <summary>The internal services of master.cf; <paramref name="smtpClient"/> adds the smtp/relay delivery agents.</summary>
    public static string MasterServices(bool smtpClient)
    {
        var lines = new List<string>
        {
            "pickup    unix  n       -       n       1       1       pickup",
            "cleanup   unix  n       -       n       -       0       cleanup",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
            "rewrite   unix  -       -       n       -       -       trivial-rewrite",
            "bounce    unix  -       -       n       -       0       bounce",
            "defer     unix  -       -       n       -       0       bounce",
            "trace     unix  -       -       n       -       0       bounce",
            "verify    unix  -       -       n       -       1       verify",
            "flush     unix  n       -       n       1000?   0       flush",
            "proxymap  unix  -       -       n       -       -       proxymap",
        };
        if (smtpClient)
        {
            lines.Add("smtp      unix  -       -       n       -       -       smtp");
            lines.Add("relay     unix  -       -       n       -       -       smtp");
        }
        lines.AddRange([
            "showq     unix  n       -       n       -       -       showq",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "discard   unix  -       -       n       -       -       discard",
            "anvil     unix  -       -       n       -       1       anvil",
            "scache    unix  -       -       n       -       1       scache",
            "postlog   unix-dgram n  -       n       -       1       postlogd",
        ]);
        return string.Join("\n", lines) + "\n";
    }

    public static Task StartAsync(string directory) => Processes.RunAsync("/usr/sbin/postfix", ["-c", directory, "start"], CommandTimeout);

    public static string ReadLog(string directory) => File.Exists(LogFile(directory)) ? File.ReadAllText(LogFile(directory)) : "";

    /// <summary>Stops the instance (if it runs) and removes its directory; never throws.</summary>
    public static async Task StopAndDeleteAsync(string directory)
    {
        try { await Processes.RunAsync("/usr/sbin/postfix", ["-c", directory, "stop"], CommandTimeout); }
        catch (Exception) { /* not running: nothing to stop */ }
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
