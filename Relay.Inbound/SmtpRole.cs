using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Smtp.Protocol;

namespace Relay.Inbound;

/// <summary>
/// The inbound SMTP role: binds every configured endpoint, accepts connections, enforces the global and
/// per-client connection limits and runs one <see cref="SmtpSession"/> per connection. A failing
/// session or database never takes the listener down.
/// </summary>
public sealed class SmtpRole : IAsyncDisposable
{
    private readonly SmtpListenerOptions _options;
    private readonly RelayDatabase _db;
    private readonly ILogger _logger;
    private readonly RelayAccess _access;
    private readonly List<(Socket Socket, ListenerKind Kind)> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ConcurrentDictionary<Task, byte> _sessions = new();
    private readonly Dictionary<IPAddress, int> _perClient = [];
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _stopSessions = new();
    private TlsContext? _tls;
    private int _connections;

    public SmtpRole(SmtpListenerOptions options, RelayDatabase db, ILogger logger)
    {
        _options = options;
        _db = db;
        _logger = logger;
        _access = new RelayAccess(options.Domains, options.TrustedNetworks, options.Recipients);
    }

    /// <summary>The endpoints really bound (port 0 resolved), per listener kind, in configuration order.</summary>
    public IReadOnlyList<IPEndPoint> ListenEndpoints => Bound(ListenerKind.Smtp);
    public IReadOnlyList<IPEndPoint> SubmissionEndpoints => Bound(ListenerKind.Submission);
    public IReadOnlyList<IPEndPoint> ImplicitTlsEndpoints => Bound(ListenerKind.ImplicitTls);

    /// <summary>The certificate STARTTLS presents (configured or generated).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate => _tls?.Certificate;

    private List<IPEndPoint> Bound(ListenerKind kind) =>
        _listeners.Where(l => l.Kind == kind).Select(l => (IPEndPoint)l.Socket.LocalEndPoint!).ToList();

    /// <summary>Loads or generates the certificate, binds every endpoint and starts accepting. Returns all bound endpoints.</summary>
    public Task<IReadOnlyList<IPEndPoint>> StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _tls = new TlsContext(ServerCertificate.Load(_options), _options.AskClientCertificate);
        try
        {
            foreach (var (endpoints, kind) in new[] { (_options.Listen, ListenerKind.Smtp), (_options.Submission, ListenerKind.Submission),
                                                      (_options.ImplicitTls, ListenerKind.ImplicitTls) })
            {
                foreach (var endpoint in endpoints)
                {
                    var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    if (endpoint.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = endpoint.Address.Equals(IPAddress.IPv6Any);
                    // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT as well, and a second relay on the same port
                    // would then share its connections silently. A taken port must fail here instead.
                    _listeners.Add((socket, kind));
                    try
                    {
                        socket.Bind(endpoint);
                        socket.Listen(512);
                    }
                    catch (SocketException e)
                    {
                        throw new ListenerBindException(kind, endpoint, e);
                    }
                    _logger.LogInformation("smtp: listening on {Endpoint} ({Kind})", socket.LocalEndPoint, kind);
                }
            }
        }
        catch
        {
            foreach (var (socket, _) in _listeners) socket.Dispose();
            _listeners.Clear();
            throw;
        }
        foreach (var (socket, kind) in _listeners) _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(socket, kind)));
        IReadOnlyList<IPEndPoint> all = _listeners.Select(l => (IPEndPoint)l.Socket.LocalEndPoint!).ToList();
        return Task.FromResult(all);
    }

    private async Task AcceptLoopAsync(Socket listener, ListenerKind kind)
    {
        while (!_stopAccepting.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(_stopAccepting.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                _logger.LogWarning(e, "smtp: accept failed on {Endpoint}", listener.LocalEndPoint);
                try { await Task.Delay(100, _stopAccepting.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                continue;
            }
            var task = RunSessionAsync(client, kind);
            _sessions.TryAdd(task, 0);
            _ = task.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task RunSessionAsync(Socket socket, ListenerKind kind)
    {
        await Task.Yield();
        var address = ((IPEndPoint)socket.RemoteEndPoint!).Address;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        socket.NoDelay = true;
        var connection = new SmtpConnection(socket, new NetworkStream(socket, ownsSocket: false));
        var admitted = Admit(address, out var refusal);
        SmtpSession? session = null;
        try
        {
            if (!admitted)
            {
                _logger.LogInformation("smtp: refused {Client}: {Reason}", address, refusal);
                // Implicit TLS clients expect a handshake first; a plaintext 421 would only confuse them, so just close.
                if (kind != ListenerKind.ImplicitTls)
                {
                    try { await connection.WriteAsync(refusal!, TimeSpan.FromSeconds(5), _stopSessions.Token).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or SocketException or SmtpTimeoutException or OperationCanceledException) { }
                }
                return;
            }
            session = new SmtpSession(_options, _db, _logger, connection, kind, _access, _tls!, address, _stopAccepting.Token, _stopSessions.Token);
            await session.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug in one session must not end the listener.
            _logger.LogError(e, "smtp: session with {Client} failed", address);
        }
        finally
        {
            if (admitted) Release(address);
            try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        if (session is not null)
            await session.RecordEndAsync().ConfigureAwait(false);
    }

    private bool Admit(IPAddress address, out SmtpReply? refusal)
    {
        lock (_perClient)
        {
            refusal = null;
            if (_connections >= _options.ConnectionLimit)
            {
                refusal = new SmtpReply(421, "4.7.0", "Error: too many connections");
                InboundMetrics.Refusal("connection", "connection-limit");
                return false;
            }
            _perClient.TryGetValue(address, out var count);
            if (count >= _options.ConnectionLimitPerClient)
            {
                refusal = Replies.TooManyConnections;
                InboundMetrics.Refusal("connection", "client-connection-limit");
                return false;
            }
            _perClient[address] = count + 1;
            _connections++;
            return true;
        }
    }

    private void Release(IPAddress address)
    {
        lock (_perClient)
        {
            _connections--;
            if (_perClient.TryGetValue(address, out var count) && count > 1) _perClient[address] = count - 1;
            else _perClient.Remove(address);
        }
    }

    /// <summary>
    /// Stops accepting and tells idle sessions 421 at once; a session in the middle of a message may finish it
    /// (and get its 250) for up to <paramref name="drain"/>, after which it is aborted.
    /// </summary>
    public async Task StopAsync(TimeSpan drain)
    {
        if (!_stopAccepting.IsCancellationRequested) await _stopAccepting.CancelAsync().ConfigureAwait(false);
        foreach (var (socket, _) in _listeners) socket.Dispose();
        try { await Task.WhenAll(_acceptLoops).ConfigureAwait(false); } catch (Exception e) { _logger.LogDebug(e, "smtp: accept loop ended"); }
        var sessions = Task.WhenAll(_sessions.Keys.ToArray());
        if (await Task.WhenAny(sessions, Task.Delay(drain)).ConfigureAwait(false) != sessions)
        {
            await _stopSessions.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(Task.WhenAll(_sessions.Keys.ToArray()), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        _tls?.Dispose();
        _stopAccepting.Dispose();
        _stopSessions.Dispose();
    }
}
