using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Smtp.Protocol;

namespace Relay.Inbound;

/// <summary>
/// The inbound SMTP role: binds every configured endpoint, accepts connections, enforces the global and
/// per-client connection limits (<see cref="SessionSlots"/>, with stress mode), the per-client rates
/// (<see cref="ClientRates"/>) and the descriptor budget (<see cref="DescriptorGate"/>), and runs one
/// <see cref="SmtpSession"/> per connection. A failing session, a flood or a database outage never takes the listener down.
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
    private readonly SessionSlots _slots;
    private readonly ClientRates _rates;
    private readonly DescriptorGate _gate;
    private readonly DataMemory _memory;
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _stopSessions = new();
    private TlsContext? _tls;
    private Task? _sweeper;
    private bool _descriptorsLow;

    /// <summary>Sockets the listener may hold beyond ConnectionLimit while it tells them 421 (counted in the descriptor headroom).</summary>
    public const int RefusalAllowance = DescriptorGate.RefusalAllowance;

    /// <summary>How long accepting pauses after accept(2) failed for want of descriptors.</summary>
    public static readonly TimeSpan DescriptorBackoff = TimeSpan.FromSeconds(1);

    public static readonly SmtpReply ConnectionRateExceeded = new(421, "4.7.0", "Error: too many connections from your address; try again later");

    public SmtpRole(SmtpListenerOptions options, RelayDatabase db, ILogger logger)
    {
        _options = options;
        _db = db;
        _logger = logger;
        _access = new RelayAccess(options.Domains, options.TrustedNetworks, options.Recipients);
        _slots = new SessionSlots(options);
        _rates = new ClientRates(options);
        _gate = new DescriptorGate(options.ConnectionLimit, options.KeepFreeDescriptors);
        _memory = new DataMemory(options.DataMemoryLimit);
    }

    /// <summary>The endpoints really bound (port 0 resolved), per listener kind, in configuration order.</summary>
    public IReadOnlyList<IPEndPoint> ListenEndpoints => Bound(ListenerKind.Smtp);
    public IReadOnlyList<IPEndPoint> SubmissionEndpoints => Bound(ListenerKind.Submission);
    public IReadOnlyList<IPEndPoint> ImplicitTlsEndpoints => Bound(ListenerKind.ImplicitTls);

    /// <summary>What the listener holds now: admitted sessions, sockets (sessions and refusals), message content in memory and its peak.</summary>
    public (int Sessions, int Capacity, int Sockets, long ContentBytes, long PeakContentBytes) Load =>
        (_slots.Count, _slots.Capacity, _gate.Held, _memory.InUse, _memory.Peak);

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
        RefreshDescriptors();
        foreach (var (socket, kind) in _listeners) _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(socket, kind)));
        _sweeper = Task.Run(SweepLoopAsync);
        IReadOnlyList<IPEndPoint> all = _listeners.Select(l => (IPEndPoint)l.Socket.LocalEndPoint!).ToList();
        return Task.FromResult(all);
    }

    private async Task AcceptLoopAsync(Socket listener, ListenerKind kind)
    {
        var failures = 0;
        var burst = System.Diagnostics.Stopwatch.StartNew();
        while (!_stopAccepting.IsCancellationRequested)
        {
            Socket client;
            try { await _gate.EnterAsync(() => MakeRoomFor(listener), _stopAccepting.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            try { client = await listener.AcceptAsync(_stopAccepting.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { _gate.Leave(); return; }
            catch (ObjectDisposedException) { _gate.Leave(); return; }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                _gate.Leave();
                // Out of descriptors: log once per burst, shed idle sessions, wait; never exit (the backlog keeps the rest).
                var toShed = _gate.OutOfDescriptors(OpenFileLimit.Current(), OpenFileLimit.OpenNow);
                var shed = _slots.EndLongestIdle(toShed, SessionSlots.OutOfDescriptors, "out-of-descriptors");
                if (failures++ == 0)
                {
                    burst.Restart();
                    _logger.LogWarning("smtp: accept failed on {Endpoint}: {Error} (open-file limit {Limit}, {Open} open, {Sessions} sessions); " +
                        "ended {Shed} idle session(s); accepting at most {Ceiling} sockets until descriptors are free",
                        listener.LocalEndPoint, e.Message, OpenFileLimit.Current()?.ToString() ?? "none", OpenFileLimit.OpenNow()?.ToString() ?? "?",
                        _slots.Count, shed, _gate.Ceiling);
                }
                InboundMetrics.Refusal("connection", "out-of-descriptors");
                try { await Task.Delay(DescriptorBackoff, _stopAccepting.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                continue;
            }
            catch (SocketException e)
            {
                _gate.Leave();
                _logger.LogWarning(e, "smtp: accept failed on {Endpoint}", listener.LocalEndPoint);
                try { await Task.Delay(100, _stopAccepting.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                continue;
            }
            if (failures > 0)
            {
                _logger.LogInformation("smtp: accepting again on {Endpoint} after {Failures} failed accept(s) for want of descriptors over {Seconds:0.#} s",
                    listener.LocalEndPoint, failures, burst.Elapsed.TotalSeconds);
                failures = 0;
            }
            var task = RunSessionAsync(client, kind);
            _sessions.TryAdd(task, 0);
            _ = task.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task RunSessionAsync(Socket socket, ListenerKind kind)
    {
        try
        {
            await Task.Yield();
            await ServeAsync(socket, kind).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug in one session must not end the listener.
            _logger.LogError(e, "smtp: session failed");
        }
        finally
        {
            _gate.Leave();
        }
    }

    private async Task ServeAsync(Socket socket, ListenerKind kind)
    {
        SessionSlot? slot = null;
        SmtpSession? session = null;
        var connection = new SmtpConnection(socket, new NetworkStream(socket, ownsSocket: false));
        try
        {
            // The peer may be gone already (reset while in the backlog): then there is no address and nothing to do.
            if (socket.RemoteEndPoint is not IPEndPoint remote) return;
            var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            socket.NoDelay = true;
            slot = Admit(address, kind, out var refusal);
            if (slot is null)
            {
                // Implicit TLS clients expect a handshake first; a plaintext 421 would only confuse them, so just close.
                if (kind != ListenerKind.ImplicitTls)
                {
                    try { await connection.WriteAsync(refusal!, TimeSpan.FromSeconds(5), _stopSessions.Token).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or SocketException or SmtpTimeoutException or OperationCanceledException) { }
                }
                return;
            }
            session = new SmtpSession(_options, _db, _logger, connection, kind, _access, _tls!, address, slot, _rates, _memory, () => _slots.InStress, _stopAccepting.Token, _stopSessions.Token);
            await session.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "smtp: connection lost before the session started");
        }
        finally
        {
            if (slot is not null) _slots.Release(slot);
            try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        if (session is not null)
            await session.RecordEndAsync().ConfigureAwait(false);
    }

    private SessionSlot? Admit(IPAddress address, ListenerKind kind, out SmtpReply? refusal)
    {
        string? reason;
        SessionSlot? slot = null;
        if (_rates.ConnectionOverLimit(address)) (refusal, reason) = (ConnectionRateExceeded, "client-connection-rate");
        else if (kind != ListenerKind.Smtp && _rates.AuthLockedOut(address)) (refusal, reason) = (SmtpSession.AuthLockedOut, "auth-lockout");
        else slot = _slots.Admit(address, out refusal, out reason);
        if (slot is null)
        {
            InboundMetrics.Refusal("connection", reason!);
            _logger.LogInformation("smtp: refused {Client}: {Reason} ({Reply})", address, reason, refusal);
        }
        return slot;
    }

    // At the descriptor ceiling with a client waiting in the backlog: the longest-idle session without a transaction
    // makes room, as it would if only ConnectionLimit were full, so a flood cannot keep a well-behaved client out.
    private bool MakeRoomFor(Socket listener)
    {
        bool waiting;
        try { waiting = listener.Poll(0, SelectMode.SelectRead); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return false; }
        return waiting && _slots.EndLongestIdle(1, SessionSlots.MadeRoom, "evicted-idle") > 0;
    }

    // The descriptor ceiling follows what the rest of the process has open; above it, idle sessions make room.
    private void RefreshDescriptors()
    {
        var above = _gate.Refresh(OpenFileLimit.Current(), OpenFileLimit.OpenNow);
        // Sessions the descriptors can hold beside the sockets being refused: what stress mode and admission measure against.
        _slots.Capacity = _gate.Ceiling is int c ? c - RefusalAllowance / 4 : _options.ConnectionLimit;
        var shed = above > 0 ? _slots.EndLongestIdle(above, SessionSlots.OutOfDescriptors, "out-of-descriptors") : 0;
        var low = _gate.Ceiling < _options.ConnectionLimit + RefusalAllowance;
        if (low && !_descriptorsLow)
            _logger.LogWarning("smtp: descriptors are short (open-file limit {Limit}, {Open} open): holding at most {Ceiling} sockets, below Relay:Smtp:ConnectionLimit {ConnectionLimit}; ended {Shed} idle session(s)",
                OpenFileLimit.Current(), OpenFileLimit.OpenNow(), _gate.Ceiling, _options.ConnectionLimit, shed);
        else if (!low && _descriptorsLow)
            _logger.LogInformation("smtp: descriptors are free again: Relay:Smtp:ConnectionLimit {ConnectionLimit} can be held", _options.ConnectionLimit);
        _descriptorsLow = low;
    }

    // Sweeps every second: stress-mode idle timeouts, and the rate table's expired windows now and then.
    private async Task SweepLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopAccepting.Token).ConfigureAwait(false))
            {
                try
                {
                    RefreshDescriptors();
                    var ended = _slots.Sweep();
                    if (ended > 0)
                        _logger.LogInformation("smtp: stress mode ({Sessions} of {Limit} sessions): ended {Ended} idle session(s) without a transaction",
                            _slots.Count, _slots.Capacity, ended);
                    if (++ticks % 30 == 0) _rates.Prune();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One bad sweep must not end sweeping (stress mode would silently stop).
                    _logger.LogError(e, "smtp: session sweep failed");
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>
    /// Stops accepting and tells idle sessions 421 at once; a session in the middle of a message may finish it
    /// (and get its 250) for up to <paramref name="drain"/>, after which it is aborted.
    /// </summary>
    public async Task StopAsync(TimeSpan drain)
    {
        if (!_stopAccepting.IsCancellationRequested) await _stopAccepting.CancelAsync().ConfigureAwait(false);
        foreach (var (socket, _) in _listeners) socket.Dispose();
        try { await Task.WhenAll(_acceptLoops.Append(_sweeper ?? Task.CompletedTask)).ConfigureAwait(false); } catch (Exception e) { _logger.LogDebug(e, "smtp: accept loop ended"); }
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
        _gate.Dispose();
        _stopAccepting.Dispose();
        _stopSessions.Dispose();
    }
}
