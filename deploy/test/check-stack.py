"""deploy/compose-test's checks of the running stack, from the host: only 127.0.0.1 ports and `docker-compose`
(its environment comes from compose-test). Prints one line per check; exits 1 at the first that fails."""
import hashlib
import json
import os
import re
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

SMTP = int(os.environ["RELAY_TEST_SMTP_PORT"])
WEB = int(os.environ["RELAY_TEST_WEB_PORT"])
METRICS = int(os.environ["RELAY_TEST_METRICS_PORT"])
MAILSTORE = os.environ["RELAY_MAILSTORE"]


def fail(what):
    print(f"check-stack: FAILED: {what}", flush=True)
    sys.exit(1)


def ok(what):
    print(f"check-stack: ok: {what}", flush=True)


def compose(*args):
    done = subprocess.run(["docker-compose", *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        fail(f"docker-compose {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def until(what, seconds, probe):
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            fail(f"{what} (waited {seconds} s)")
        time.sleep(1)


def metric(text, name, **labels):
    """The sum of a counter's samples whose labels include the given ones (Prometheus text format)."""
    total, seen = 0.0, False
    for line in text.splitlines():
        m = re.match(r"^" + re.escape(name) + r"(?:\{(.*)\})? ([0-9.eE+-]+)$", line)
        if m and all(f'{k}="{v}"' in (m.group(1) or "") for k, v in labels.items()):
            total, seen = total + float(m.group(2)), True
    return total if seen else None


status, body = get(METRICS, "/readyz")
if status != 200 or '"ready"' not in body:
    fail(f"/readyz answered {status}: {body}")
ok(f"/readyz on 127.0.0.1:{METRICS}: 200 {body}")

token = uuid.uuid4().hex
recipient = f"postmaster@{os.environ['RELAY_DOMAIN']}"
with smtplib.SMTP("127.0.0.1", SMTP, local_hostname="client.test", timeout=30) as smtp:
    smtp.ehlo()
    smtp.mail("sender@client.test")
    code, reply = smtp.rcpt(recipient)
    if code != 250:
        fail(f"RCPT TO:<{recipient}> answered {code} {reply!r}")
    code, reply = smtp.data(f"From: sender@client.test\r\nTo: {recipient}\r\nSubject: {token}\r\n\r\nvia compose\r\n".encode())
    if code != 250:
        fail(f"DATA answered {code} {reply!r}")
ok(f"SMTP to 127.0.0.1:{SMTP}: 250 {reply.decode(errors='replace')}")

line = until(f"the message at the mail store {MAILSTORE}", 60,
             lambda: next((l for l in compose("logs", "--no-color", "receiver").splitlines() if f"subject={token}" in l), None))
if recipient not in line:
    fail(f"the mail store got it for someone else: {line}")
ok(f"delivered to the mail store: {line.strip()}")

listing = compose("exec", "-T", "relay", "relay", "queue", "list", "--json")
messages = [m for m in json.loads(listing) if recipient in m["recipients"]]
if len(messages) != 1:
    fail(f"relay queue list --json holds {len(messages)} messages for {recipient}: {listing}")
shown = until("a recorded delivered attempt", 30, lambda: (lambda d: d if any(
    r["result"] == "delivered" for a in d["attempts"] for r in a["recipients"]) else None)(
    json.loads(compose("exec", "-T", "relay", "relay", "queue", "show", messages[0]["id"], "--json"))))
attempt = next(a for a in shown["attempts"] if any(r["result"] == "delivered" for r in a["recipients"]))
where = f"[{attempt['address']}]:{attempt['port']}"
if where != MAILSTORE or attempt["transport"] is None:
    fail(f"the delivered attempt went to {where} (expected {MAILSTORE}) transport {attempt['transport']}: {attempt}")
ok(f"relay queue show --json: {attempt['nextHop']} delivered to {where}, transport {attempt['transport']}, "
   f"reason {attempt['reason']}")

status, text = get(METRICS, "/metrics")
if status != 200:
    fail(f"/metrics answered {status}")
accepted = metric(text, "relay_inbound_accepted_total")
delivered = metric(text, "relay_delivery_recipients_total", result="delivered")
if accepted != 1 or delivered != 1:
    fail(f"/metrics: relay_inbound_accepted_total {accepted}, relay_delivery_recipients_total{{result=delivered}} {delivered}; expected 1 and 1")
ok("/metrics: relay_inbound_accepted_total 1, relay_delivery_recipients_total{result=\"delivered\"} 1")

status, page = get(WEB, "/login")
if status != 200 or "<form" not in page or "password" not in page.lower():
    fail(f"admin UI /login answered {status}: {page[:300]}")
ok(f"admin UI on 127.0.0.1:{WEB}: /login 200 with its form")

sessions = [l for l in compose("logs", "--no-color", "relay").splitlines() if "smtp: session from" in l]
if len(sessions) != 1:
    fail(f"{len(sessions)} session log lines, expected 1: {sessions}")
ok(f"one log line for the session: {sessions[0].split('|', 1)[-1].strip()}")

tlsa = compose("exec", "-T", "relay", "relay", "tlsa").strip()
m = re.fullmatch(r"_25\._tcp\." + re.escape(os.environ["RELAY_HOSTNAME"]) + r"\. IN TLSA 3 1 1 ([0-9a-f]{64})", tlsa)
if not m:
    fail(f"relay tlsa printed {tlsa!r}")
served = subprocess.run(
    f"openssl s_client -starttls smtp -connect 127.0.0.1:{SMTP} </dev/null 2>/dev/null"
    " | openssl x509 -pubkey -noout | openssl pkey -pubin -outform der", shell=True, capture_output=True, timeout=30).stdout
if not served or hashlib.sha256(served).hexdigest() != m.group(1):
    fail(f"relay tlsa's digest {m.group(1)} is not the SHA-256 of the key port 25 presents ({len(served)} bytes of key read)")
ok(f"relay tlsa: {tlsa} (the key STARTTLS on port 25 presents)")

# The README's other commands, as an operator types them.
if not re.search(r"relaycomposetest_relay_1 .*\(healthy\)", compose("ps")):
    fail(f"docker-compose ps does not show relay healthy:\n{compose('ps')}")
ok("docker-compose ps: relay healthy")

check = subprocess.run(["docker-compose", "exec", "-T", "relay", "relay", "tlsa", "--check"],
                       capture_output=True, text=True, timeout=60)
# The test's unbound queries no name server (deploy/test/unbound/offline.conf), so it cannot prime the root key and
# calls every answer bogus (SERVFAIL): Relay must call that a problem, exit 1, whether it says bogus or a failed lookup.
said = check.stdout + check.stderr
if check.returncode != 1 or not re.search(r": (bogus|error): ", said):
    fail(f"relay tlsa --check without reachable DNS exited {check.returncode}: {said}")
ok(f"relay tlsa --check without reachable DNS: exit 1, {said.strip()}")

dump = subprocess.run(["docker-compose", "exec", "-T", "postgres", "pg_dump", "-U", "relay", "-Fc", "relay"],
                      capture_output=True, timeout=60)
if dump.returncode != 0 or not dump.stdout.startswith(b"PGDMP"):
    fail(f"pg_dump exited {dump.returncode}: {dump.stderr.decode(errors='replace')}")
ok(f"pg_dump of the queue: {len(dump.stdout)} bytes")
