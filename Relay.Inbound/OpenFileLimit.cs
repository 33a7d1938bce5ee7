using System.Runtime.InteropServices;

namespace Relay.Inbound;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE, what `ulimit -n` shows) and how many descriptors are open now.
/// Every socket is a descriptor, and so are PostgreSQL connections, log files and the runtime's own files; when
/// the limit is reached, accept(2) fails with EMFILE and so does everything else that opens one, the runtime's own
/// thread start-up included (which .NET reports as "Out of memory." and aborts). Hence the start-up check and the
/// listener's descriptor gate. Note that .NET raises the soft limit to the hard one when it starts, so what counts
/// is the hard limit (systemd's LimitNOFILE=, `ulimit -Hn`), unless something lowers the soft limit later (prlimit).
/// </summary>
public static class OpenFileLimit
{
    private const int RlimitNofile = 7; // Linux, all architectures .NET runs on

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRLimit(int resource, out RLimit limit);

    /// <summary>The soft limit, or null when there is none (RLIM_INFINITY) or it cannot be read (not Linux).</summary>
    public static long? Current()
    {
        try
        {
            if (GetRLimit(RlimitNofile, out var limit) == 0)
                return limit.Current >= long.MaxValue ? null : (long)limit.Current;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return FromProcLimits();
    }

    /// <summary>Descriptors open now (entries of /proc/self/fd), or null when that cannot be read.</summary>
    public static int? OpenNow()
    {
        try { return Directory.GetFileSystemEntries("/proc/self/fd").Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    // "Max open files            20000                20000                files"
    private static long? FromProcLimits()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.TryParse(soft, out var value) ? value : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }
}
