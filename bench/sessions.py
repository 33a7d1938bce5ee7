#!/usr/bin/env python3
"""Load shapes smtp-source cannot make, for bench/run-all (standard library only, loopback only, bounded in time).

  sessions.py hold --port P --count N [--per-address K] [--timeout S]
      Opens N SMTP sessions to 127.0.0.1:P from many 127.x.y.z source addresses (K sessions each, so the
      client's ephemeral ports never run out), reads each 220 greeting, prints "held N" on stdout and keeps them
      open, silent, until stdin is closed (or --timeout seconds pass). Exit 1 if not every session got its 220.

  sessions.py latency --port P --sink-port S --rate R --count N [--timeout S]
      Runs a minimal SMTP sink on 127.0.0.1:S and sends N messages (4 KiB, one session each) to 127.0.0.1:P at a
      fixed R per second. For each message the time from the server's 250 after DATA (accepted) to the moment the
      sink has the whole message (delivered) is taken on the same clock; prints "p50_ms p99_ms delivered/sent".
"""
import argparse
import asyncio
import resource
import sys
import time

BODY_LINE = b"x" * 76 + b"\r\n"


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def source_address(i, per_address):
    # 127.10.0.1, 127.10.0.2, ...: each address has its own 28,000 ephemeral ports.
    n = i // per_address + 1
    return f"127.10.{n // 250}.{n % 250 + 1}"


async def read_reply(reader):
    """One (possibly multi-line) SMTP reply; returns its code."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])


async def hold(args):
    raise_file_limit()
    held = []
    failed = 0
    gate = asyncio.Semaphore(200)  # connects in flight: keeps within the listen backlogs

    async def open_one(i):
        nonlocal failed
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", args.port, local_addr=(source_address(i, args.per_address), 0)), 30)
                if await asyncio.wait_for(read_reply(reader), 30) != 220:
                    raise ConnectionError("no 220")
                held.append((reader, writer))
            except (OSError, ConnectionError, asyncio.TimeoutError) as e:
                failed += 1
                if failed <= 3:
                    print(f"session {i}: {e!r}", file=sys.stderr)

    await asyncio.wait_for(asyncio.gather(*(open_one(i) for i in range(args.count))), args.timeout)
    print(f"held {len(held)}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        # Held until whoever started us closes our stdin.
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.read), args.timeout)
    except asyncio.TimeoutError:
        pass
    closed = sum(1 for r, _ in held if r.at_eof())
    for _, w in held:
        w.close()
    if closed:
        print(f"{closed} sessions were closed by the server while held", file=sys.stderr)
    return 0 if failed == 0 and closed == 0 else 1


class Sink:
    """Accepts everything (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and notes when each message's last line arrived."""

    def __init__(self):
        self.arrived = {}

    async def serve(self, reader, writer):
        try:
            writer.write(b"220 sink.bench.test ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    bench_id = None
                    while True:
                        data = await reader.readline()
                        if not data:
                            return
                        if data == b".\r\n":
                            break
                        if bench_id is None and data.startswith(b"X-Bench-Id: "):
                            bench_id = data[12:].strip().decode()
                    if bench_id is not None:
                        self.arrived[bench_id] = time.monotonic()
                    writer.write(b"250 2.0.0 kept nothing\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


async def send_one(port, i, accepted):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async def command(text, expect):
            writer.write(text)
            code = await read_reply(reader)
            if code != expect:
                raise ConnectionError(f"{text[:10]!r}: {code}")
        if await read_reply(reader) != 220:
            raise ConnectionError("no 220")
        await command(b"EHLO client.bench.test\r\n", 250)
        await command(b"MAIL FROM:<from@bench.test>\r\n", 250)
        await command(b"RCPT TO:<to@bench.test>\r\n", 250)
        await command(b"DATA\r\n", 354)
        message = (f"From: from@bench.test\r\nTo: to@bench.test\r\nSubject: latency {i}\r\nX-Bench-Id: {i}\r\n\r\n".encode()
                   + BODY_LINE * 52 + b".\r\n")
        writer.write(message)
        if await read_reply(reader) == 250:
            accepted[str(i)] = time.monotonic()
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


async def latency(args):
    sink = Sink()
    server = await asyncio.start_server(sink.serve, "127.0.0.1", args.sink_port, backlog=256)
    accepted = {}
    errors = 0

    async def guarded(i):
        nonlocal errors
        try:
            await asyncio.wait_for(send_one(args.port, i, accepted), 30)
        except (OSError, ConnectionError, asyncio.TimeoutError) as e:
            errors += 1
            if errors <= 3:
                print(f"message {i}: {e!r}", file=sys.stderr)

    start = time.monotonic()
    tasks = []
    for i in range(args.count):
        # A fixed schedule, not "one after the other": a slow server does not lower the offered rate.
        await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        tasks.append(asyncio.create_task(guarded(i)))
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and any(k not in sink.arrived for k in accepted):
        await asyncio.sleep(0.05)
    server.close()
    delays = sorted((sink.arrived[k] - t) * 1000 for k, t in accepted.items() if k in sink.arrived)
    if not delays:
        print("0 0 0/0")
        return 1

    def pct(p):
        return delays[min(len(delays) - 1, int(p * len(delays)))]
    print(f"{pct(0.50):.1f} {pct(0.99):.1f} {len(delays)}/{args.count}")
    return 0 if len(delays) == args.count and errors == 0 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    h = sub.add_parser("hold")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--count", type=int, required=True)
    h.add_argument("--per-address", type=int, default=40)
    h.add_argument("--timeout", type=float, default=280)
    lat = sub.add_parser("latency")
    lat.add_argument("--port", type=int, required=True)
    lat.add_argument("--sink-port", type=int, required=True)
    lat.add_argument("--rate", type=float, default=100)
    lat.add_argument("--count", type=int, required=True)
    lat.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    if args.count < 1 or (args.mode == "latency" and args.rate <= 0):
        parser.error("--count and --rate must be positive")
    return asyncio.run(hold(args) if args.mode == "hold" else latency(args))


if __name__ == "__main__":
    sys.exit(main())
