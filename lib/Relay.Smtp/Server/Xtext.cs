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

    private static bool IsUpperHex(char c) => char.IsAsciiDigit(c) || c is >= 'A' and <= 'F';
}
