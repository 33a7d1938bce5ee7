using System.Text;
using Relay.Policy;

namespace Relay.Delivery.Ipsec;

/// <summary>
/// libreswan's policy groups (ipsecdir/policies/&lt;class&gt;, one prefix per line) written from the class table, so
/// pluto's OE conns trigger exactly where the database says. Each file is replaced atomically; the caller asks pluto to
/// reread them (<c>whack --listen</c>) only when one changed.
/// </summary>
public static class PolicyGroupFiles
{
    /// <summary>The five files' contents, in class order; a class without prefixes gets an empty file (pluto wants all five).</summary>
    public static IReadOnlyDictionary<IpsecClass, string> Render(IpsecClassTable table)
    {
        var files = new Dictionary<IpsecClass, string>();
        foreach (var cls in Enum.GetValues<IpsecClass>())
        {
            var text = new StringBuilder("# written by relay from ipsec_policies; edit with `relay ipsec class` or the web UI\n");
            foreach (var (prefix, c) in table.Entries.OrderBy(e => e.Prefix.ToString(), StringComparer.Ordinal))
                if (c == cls) text.Append(prefix).Append('\n');
            files[cls] = text.ToString();
        }
        return files;
    }

    /// <returns>Whether any file changed.</returns>
    public static async Task<bool> WriteAsync(string directory, IpsecClassTable table, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var changed = false;
        foreach (var (cls, text) in Render(table))
        {
            var path = Path.Combine(directory, cls.ToWire());
            if (File.Exists(path) && await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) == text) continue;
            var temporary = path + ".tmp";
            await File.WriteAllTextAsync(temporary, text, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, path, overwrite: true);
            changed = true;
        }
        return changed;
    }
}
