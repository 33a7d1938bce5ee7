using Npgsql;

namespace Relay.Db;

/// <summary>Operator actions on recorded peer history.</summary>
public sealed class PeerAdmin(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Forgets a peer's history (by MX host name or by address), so a peer that legitimately lowered its
    /// security (e.g. dropped DANE) stops being flagged as downgraded. Attempts stay: they are what happened.
    /// Returns how many peer rows were removed.
    /// </summary>
    public async Task<int> ForgetAsync(string peer, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("delete from peers where lower(name) = lower(@peer) or address = @peer", connection);
        command.Parameters.AddWithValue("peer", peer.Trim().TrimEnd('.'));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forgets one peer row (MX host name and address), as the web UI's button on the peer page does.</summary>
    public async Task<int> ForgetPeerAsync(string name, string address, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("delete from peers where lower(name) = lower(@name) and address = @address", connection);
        command.Parameters.AddWithValue("name", name.Trim().TrimEnd('.'));
        command.Parameters.AddWithValue("address", address.Trim());
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
