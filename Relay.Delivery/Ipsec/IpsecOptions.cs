namespace Relay.Delivery.Ipsec;

/// <summary>The libreswan sidecar (Relay:Ipsec:*). Disabled by default: then every attempt records <c>none</c>, <c>ipsec-disabled</c>.</summary>
public sealed record IpsecOptions
{
    public bool Enabled { get; init; }

    /// <summary>pluto's control socket, shared with the sidecar (Relay:Ipsec:ControlSocket).</summary>
    public string ControlSocket { get; init; } = "/run/pluto/pluto.ctl";

    /// <summary>How long one Ensure may wait for IKE before the attempt goes on (or, for <c>private</c>, defers) (Relay:Ipsec:Timeout).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Where Relay writes libreswan's policy-group files (Relay:Ipsec:PolicyDirectory); null: Relay writes none.</summary>
    public string? PolicyDirectory { get; init; }

    /// <summary>The `ipsec` command (whack is `ipsec whack`); a path for installations outside PATH.</summary>
    public string Command { get; init; } = "ipsec";

    /// <summary>RFC 4322 §3.4-style lifespans: a failure is believed briefly, a working SA longer.</summary>
    public TimeSpan FailureLifetime { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan SuccessLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the class table read from the database is used before it is read again (UI edits take effect then).</summary>
    public TimeSpan ClassRefresh { get; init; } = TimeSpan.FromSeconds(10);
}
