#!/usr/bin/env bash
# Resident memory while 60 clients each send most of a 10 MiB body and
# stop: reproduces docs/benchmarks.md, "Memory held by hostile requests".
#
#   scripts/bench-unfinished-bodies.sh
#
# Builds the release binary and starts `iamgate serve` (127.0.0.1 only,
# SQLite, the REST example world). Two cases, 60 connections each:
#   unauthenticated — a POST to an AWS_IAM method with no signature;
#   known key       — a POST to STS with a real access key id and a fresh
#                     date but a wrong signature, which only the body can
#                     disprove, so the server must read it.
# Each client sends its head (Content-Length: 10 MiB) and 9 MiB of body,
# then waits; RSS is read once all have sent, and every client's answer is
# counted when the connections end (408 after --body-read-timeout, 503
# when the shared body budget is spent, 403 when answered from the head).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked -q -p iamgate
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
IAMGATE_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')" IAMGATE_LOG=warn \
  "$TARGET_DIR/release/iamgate" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --config examples/rest-cross-account/world.yaml --body-read-timeout 10s 2>"$WORK/log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_iamgate/ready"; do sleep 0.01; done
python3 - "$PORT" "$PID" <<'PY'
import socket, sys, time, datetime, collections, threading
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
def head(case):
    length = 10 * 1024 * 1024
    if case == "unauthenticated":
        return (f"POST /restapis/apiid/prod/_user_request_/ HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {length}\r\n\r\n").encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    auth = (f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEVALID0001/{day}/us-east-1/sts/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}")
    return (f"POST / HTTP/1.1\r\nHost: sts.amazonaws.com\r\nX-Amz-Date: {stamp}\r\n"
            f"Authorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()
chunk = b"a" * (1024 * 1024)
for case in ("unauthenticated", "known key"):
    before = rss()
    socks = []
    for _ in range(60):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(head(case))
        s.setblocking(False)
        socks.append(s)
    # Send up to 9 MiB on each, as far as the server takes it.
    deadline = time.time() + 8
    sent = [0] * len(socks)
    while time.time() < deadline and min(sent) < 9 * len(chunk):
        progress = False
        for i, s in enumerate(socks):
            if sent[i] < 9 * len(chunk):
                try:
                    sent[i] += s.send(chunk[: 9 * len(chunk) - sent[i]])
                    progress = True
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    pass
        if not progress:
            time.sleep(0.05)
    held = rss()
    statuses = collections.Counter()
    for s in socks:
        s.setblocking(True); s.settimeout(30)
        try:
            answer = s.recv(64)
            statuses[answer.split(b" ")[1].decode() if answer else "closed"] += 1
        except OSError as e:
            statuses[type(e).__name__] += 1
        s.close()
    print(f"| {case} | {before:.1f} | {held:.1f} | {sum(sent) / 2**20:.0f} MiB | {dict(statuses)} |")
PY
