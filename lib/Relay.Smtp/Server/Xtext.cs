namespace Relay.Smtp.Server;

/// <summary>RFC 3461 §4 xtext: printable ASCII except '+' and '=', with '+XX' hex escapes.</summary>
public static class Xtext
{
    public static bool IsValid(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '+')
            {
                if (i + 2 >= value.Length || !IsUpperHex(value[i + 1]) || !IsUpperHex(value[i + 2])) return false;
                i += 2;
            }
            else if (c < 33 || c > 126 || c == '=') return false;
        }
        return true;
    }

    /// <summary>Decodes '+XX' escapes; call only on a value <see cref="IsValid"/> accepted.</summary>
    public static string Decode(string value)
    {
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '+') { bytes.Add(Convert.ToByte(value.Substring(i + 1, 2), 16)); i += 2; }
            else bytes.Add((byte)value[i]);
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Encodes text for ENVID/ORCPT on the sending side: '+', '=', controls, space and non-ASCII become '+XX'.</summary>
    public static string Encode(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            if (b is < 33 or > 126 || b == '+' || b == '=') builder.Append('+').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else builder.Append((char)b);
        }
        return builder.ToString();
    }

    private static bool IsUpperHex(char c) => char.IsAsciiDigit(c) || c is >= 'A' and <= 'F';
}
