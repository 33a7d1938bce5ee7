using System.Text;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// Seeded, deterministic damage to an input: bit flips, interesting bytes (CR, LF, NUL, 0xFF, separators, digits),
/// inserted and deleted runs, a run repeated many times (to reach length limits), splices from another corpus
/// entry, truncation. The same seed gives the same inputs, so a failure is reproduced by its seed and iteration.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly byte[] Interesting = [0, 0xFF, 0x7F, 0x80, (byte)'\r', (byte)'\n', (byte)' ', (byte)'\t', (byte)':', (byte)'<', (byte)'>',
        (byte)'.', (byte)'=', (byte)';', (byte)'-', (byte)'0', (byte)'9', (byte)'"', (byte)'\\', (byte)'@', (byte)'[', (byte)']', 0xC3, 0xE2];
    private readonly Random random = new(seed);

    public int Next(int max) => random.Next(max);

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        var rounds = 1 + random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            switch (random.Next(9))
            {
                case 0 when data.Count > 0:
                    var bit = random.Next(data.Count * 8);
                    data[bit / 8] ^= (byte)(1 << (bit % 8));
                    break;
                case 1 when data.Count > 0:
                    data[random.Next(data.Count)] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 2:
                    data.InsertRange(random.Next(data.Count + 1), Enumerable.Range(0, 1 + random.Next(8)).Select(_ => random.Next(3) == 0
                        ? Interesting[random.Next(Interesting.Length)] : (byte)random.Next(256)));
                    break;
                case 3 when data.Count > 0:
                    var at = random.Next(data.Count);
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(16)));
                    break;
                case 4 when data.Count > 0:
                    // A run repeated: long lines, deep nesting, many labels, many records.
                    var start = random.Next(data.Count);
                    var run = data.GetRange(start, Math.Min(data.Count - start, 1 + random.Next(8))).ToArray();
                    var times = random.Next(4) == 0 ? 500 + random.Next(3000) : 2 + random.Next(20);
                    data.InsertRange(start, Enumerable.Repeat(run, times).SelectMany(b => b));
                    break;
                case 5 when corpus.Count > 0:
                    var other = corpus[random.Next(corpus.Count)];
                    if (other.Length == 0) break;
                    var from = random.Next(other.Length);
                    data.InsertRange(random.Next(data.Count + 1), other.Skip(from).Take(1 + random.Next(other.Length - from)));
                    break;
                case 6 when data.Count > 0:
                    var keep = random.Next(data.Count);
                    data.RemoveRange(keep, data.Count - keep);
                    break;
                case 7 when data.Count > 1:
                    // Swap two bytes (reorders fields, lengths, separators).
                    int a = random.Next(data.Count), b = random.Next(data.Count);
                    (data[a], data[b]) = (data[b], data[a]);
                    break;
                default:
                    if (data.Count > 0) data[random.Next(data.Count)] = (byte)random.Next(256);
                    break;
            }
        }
        return data.ToArray();
    }

    public static IReadOnlyList<byte[]> Ascii(params string[] texts) => texts.Select(t => Encoding.UTF8.GetBytes(t)).ToList();
}
