using System.Text.RegularExpressions;

namespace Relay.Policy.Tests.Vocabulary;

/// <summary>
/// DESIGN.md § Security vocabulary: the words are defined once. Product code outside the one mapping (Relay.Policy's
/// Vocabulary), the Db boundary (db/, where SQL and its CHECK constraints must spell them) may not build or compare a
/// security word as a string literal; everywhere else the typed enums travel and `.ToWire()` writes them.
/// This reads the repository's own source files (not ../shared): the test fails on the line that breaks the rule.
/// </summary>
public partial class SecurityWordsInSourceTests
{
    private static readonly string[] Words = ["cleartext", "encrypted", "trusted", "verified", "dane-ee", "dane-ta"];

    /// <summary>Where a literal word is the boundary itself, with why.</summary>
    private static readonly string[] Allowed =
    [
        "Relay.Policy/Vocabulary/",          // the one mapping of each vocabulary
        "db/",                               // the Db boundary: SQL and its CHECK constraints spell the words
        "Relay.Policy/Dane/DaneResult.cs",   // `relay dane verify`'s own result words ("verified" is a DANE verdict there)
    ];

    [GeneratedRegex("\"(?<word>[a-z-]+)\"")]
    private static partial Regex Literal();

    [Fact]
    public void No_product_code_outside_the_boundaries_spells_a_security_word_as_a_string()
    {
        var root = RepositoryRoot();
        var offending = new List<string>();
        var scanned = 0;
        foreach (var file in ProductSources(root))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (Allowed.Any(a => relative.StartsWith(a, StringComparison.Ordinal))) continue;
            scanned++;
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var code = lines[i].TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal) || code.StartsWith("///", StringComparison.Ordinal)) continue;
                foreach (Match m in Literal().Matches(lines[i]))
                    if (Words.Contains(m.Groups["word"].Value))
                        offending.Add($"{relative}:{i + 1}: {lines[i].Trim()}");
            }
        }
        Assert.True(scanned > 50, $"only {scanned} product files found under {root}: the scan would prove nothing");
        Assert.True(offending.Count == 0, "security words spelled outside the vocabulary and Db boundary:\n" + string.Join('\n', offending));
    }

    [Fact]
    public void The_scan_catches_a_comparison_and_ignores_prose()
    {
        Assert.Matches(Literal(), "if (word == \"verified\") return;");
        Assert.DoesNotMatch(Literal(), "var text = \"the peer was verified by DANE\";");
    }

    private static IEnumerable<string> ProductSources(string root) =>
        Directory.EnumerateDirectories(root)
            .Where(d => Path.GetFileName(d) is var name && (name.StartsWith("Relay.", StringComparison.Ordinal) || name is "db" or "lib"))
            // Razor components too: the web views' code lives in .razor files.
            .SelectMany(d => new[] { "*.cs", "*.razor" }.SelectMany(pattern => Directory.EnumerateFiles(d, pattern, SearchOption.AllDirectories)))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "relay.sln"))) return dir.FullName;
        throw new InvalidOperationException($"relay.sln not found above {AppContext.BaseDirectory}");
    }
}
