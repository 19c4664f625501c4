#!/usr/bin/env bash
# STS over HTTP: reproduces the table of docs/benchmarks.md, "STS over HTTP".
#
#   scripts/bench-sts.sh            # SQLite, plus PostgreSQL when
#                                   # IAMGATE_TEST_POSTGRES_URL is set
#
# Builds the release binary, starts `iamgate serve` on 127.0.0.1 only, and
# drives it with oha (bounded: DURATION per run, default 10s):
#   1. GET /_iamgate/health                  (the floor: routing, no auth)
#   2. signed POST GetCallerIdentity          (SigV4 + world lookup + XML)
#   3. signed POST AssumeRole cross-account   (+ policy evaluation + sealing)
# on SQLite and on PostgreSQL, then start-up time (process start →
# /_iamgate/ready) and RSS with 10,000 users and 10,000 roles in the store.
#
# `ONLY=replay` takes the client's signing out: one botocore signature of
# GetCallerIdentity, made once and replayed by oha, alternated ROUNDS
# times (3) with the health endpoint on SQLite; GCI / health is the ratio
# of the sums.
#
# Environment: ONLY=startup (skip the throughput runs) or replay, OHA
# (default ~/.cargo/bin/oha), CONNECTIONS (16), DURATION (10s), ROUNDS (3),
# CARGO_TARGET_DIR, IAMGATE_TEST_POSTGRES_URL (needs psql).
set -euo pipefail
cd "$(dirname "$0")/.."

OHA="${OHA:-$HOME/.cargo/bin/oha}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-10s}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/release/iamgate"

command -v "$OHA" >/dev/null || { echo "bench: oha not found ($OHA)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
cargo build --release --locked -q -p iamgate

WORK="$(mktemp -d)"
SERVER_PID=""
SCHEMAS=()
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  for schema in "${SCHEMAS[@]}"; do
    psql -q "$IAMGATE_TEST_POSTGRES_URL" -c "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }

# start_server NAME ARGS… : starts the server, waits for readiness, sets
# SERVER_PID, PORT and READY_MS (process start → first 200 from /ready).
start_server() {
  local name="$1"; shift
  PORT="$(free_port)"
  local started; started="$(now_ns)"
  IAMGATE_SECRET_KEY="$BENCH_KEY" IAMGATE_LOG=warn \
    "$BIN" serve --listen "127.0.0.1:$PORT" "$@" 2>"$WORK/$name.log" &
  SERVER_PID=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_iamgate/ready"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/$name.log" >&2; exit 1; fi
    sleep 0.005
  done
  READY_MS=$(( ($(now_ns) - started) / 1000000 ))
}

stop_server() {
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

# oha_run NAME ARGS… : one bounded run; prints "rps p99_ms" and checks that
# every answer was a 200.
oha_run() {
  local name="$1"; shift
  "$OHA" --no-tui --output-format json -c "$CONNECTIONS" -z "$DURATION" "$@" >"$WORK/$name.json"
  python3 - "$WORK/$name.json" "$name" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
codes = run.get("statusCodeDistribution", {})
bad = {code: n for code, n in codes.items() if code != "200"}
if bad or not codes:
    sys.exit(f"bench: {sys.argv[2]}: non-200 answers {codes} {run.get('errorDistribution')}")
print(f"{run['summary']['requestsPerSec']:.0f} {run['latencyPercentiles']['p99'] * 1000:.2f}")
EOF
}

BENCH_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
cat >"$WORK/world.yaml" <<'EOF'
accounts:
  - id: "111122223333"
    root_access_key: { id: AKIAEXAMPLEAROOT0001, secret: "exampleAccountARootSecretKey0000000000001" }
    roles:
      - name: Invoker
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - { Effect: Allow, Principal: { AWS: "arn:aws:iam::444455556666:root" }, Action: sts:AssumeRole }
        policies:
          invoke: { Version: "2012-10-17", Statement: [ { Effect: Allow, Action: execute-api:Invoke, Resource: "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/*/*" } ] }
  - id: "444455556666"
    users:
      - name: u
        access_keys: [{ id: AKIAEXAMPLEUSERU0001, secret: "exampleUserUSecretAccessKey00000000000001" }]
        policies:
          assume: { Version: "2012-10-17", Statement: [ { Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::111122223333:role/Invoker" } ] }
EOF

SIGN=(--aws-sigv4 "aws:amz:us-east-1:sts" -a "AKIAEXAMPLEUSERU0001:exampleUserUSecretAccessKey00000000000001"
      -m POST -T "application/x-www-form-urlencoded; charset=utf-8")
GCI_BODY="Action=GetCallerIdentity&Version=2011-06-15"
AR_BODY="Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FInvoker&RoleSessionName=bench"

ROWS=()
throughput() {
  local store="$1"; shift
  start_server "$store" --config "$WORK/world.yaml" "$@"
  local url="http://127.0.0.1:$PORT"
  # A short warm-up, then the measured runs, in this order.
  "$OHA" --no-tui --output-format quiet -c "$CONNECTIONS" -n 2000 "${SIGN[@]}" -d "$GCI_BODY" "$url/" >/dev/null
  read -r h_rps h_p99 < <(oha_run "$store-health" "$url/_iamgate/health")
  read -r g_rps g_p99 < <(oha_run "$store-gci" "${SIGN[@]}" -d "$GCI_BODY" "$url/")
  read -r a_rps a_p99 < <(oha_run "$store-assume" "${SIGN[@]}" -d "$AR_BODY" "$url/")
  local rss; rss="$(rss_mib)"
  stop_server
  local ratio; ratio="$(python3 -c "print(f'{$g_rps / $h_rps:.2f}')")"
  ROWS+=("| $store | $h_rps | $h_p99 | $g_rps | $g_p99 | ${ratio}× | $a_rps | $a_p99 | $rss |")
}

# The replayed signature's headers, as oha -H arguments.
botocore_headers() {
  python3 - "$1" "$GCI_BODY" <<'EOF'
import sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, body = sys.argv[1:]
content_type = "application/x-www-form-urlencoded; charset=utf-8"
request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": content_type})
credentials = Credentials("AKIAEXAMPLEUSERU0001", "exampleUserUSecretAccessKey00000000000001")
SigV4Auth(credentials, "sts", "us-east-1").add_auth(request)
for name in ("Authorization", "X-Amz-Date"):
    print("-H")
    print(f"{name}: {request.headers[name]}")
EOF
}

if [ "${ONLY:-}" = replay ]; then
  python3 -c 'import botocore' 2>/dev/null || { echo "bench: botocore is needed (pip install botocore)" >&2; exit 1; }
  echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $CONNECTIONS connections, $DURATION per run" >&2
  start_server replay --config "$WORK/world.yaml" --data-dir "$WORK/replay"
  url="http://127.0.0.1:$PORT"
  mapfile -t signed < <(botocore_headers "$url/")
  REPLAY=("${signed[@]}" -m POST -T "application/x-www-form-urlencoded; charset=utf-8" -d "$GCI_BODY")
  "$OHA" --no-tui --output-format quiet -c "$CONNECTIONS" -n 2000 "${REPLAY[@]}" "$url/" >/dev/null
  health=0; gci=0; runs=()
  for _ in $(seq "${ROUNDS:-3}"); do
    read -r h _ < <(oha_run replay-health "$url/_iamgate/health")
    read -r g _ < <(oha_run replay-gci "${REPLAY[@]}" "$url/")
    health=$((health + h)); gci=$((gci + g)); runs+=("$h/$g")
  done
  stop_server
  echo "req/s health/GetCallerIdentity per round (replayed botocore signature): ${runs[*]}"
  python3 -c "print(f'GetCallerIdentity / health: {$gci / $health:.3f}x')"
  echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  exit 0
fi

if [ "${ONLY:-}" != startup ]; then
echo "bench: $(nproc) cores, $CONNECTIONS connections, $DURATION per run, $("$OHA" --version)" >&2
throughput sqlite --data-dir "$WORK/sqlite"
if [ -n "${IAMGATE_TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null; then
  schema="iamgate_bench_$$_$(date +%s)"
  psql -q "$IAMGATE_TEST_POSTGRES_URL" -c "CREATE SCHEMA \"$schema\"" >/dev/null
  SCHEMAS+=("$schema")
  sep='?'; case "$IAMGATE_TEST_POSTGRES_URL" in *\?*) sep='&';; esac
  throughput postgres --data-dir "$WORK/pg" --store "$IAMGATE_TEST_POSTGRES_URL${sep}options[search_path]=$schema"
else
  echo "bench: SKIP PostgreSQL (IAMGATE_TEST_POSTGRES_URL unset or no psql)" >&2
fi

echo
echo "| store | health req/s | health p99 ms | GetCallerIdentity req/s | GCI p99 ms | GCI / health | AssumeRole req/s | AssumeRole p99 ms | RSS after MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
fi

# Start-up with 10,000 users (each with an access key and an inline policy)
# and 10,000 roles (each with a trust policy), in 10 accounts.
python3 - "$WORK/big.yaml" <<'EOF'
import sys
out = open(sys.argv[1], "w")
out.write("accounts:\n")
for a in range(10):
    account = f"{100000000000 + a:012d}"
    out.write(f'  - id: "{account}"\n    users:\n')
    for u in range(1000):
        n = a * 1000 + u
        out.write(f"      - name: user{n}\n")
        out.write(f'        access_keys: [{{ id: AKIABENCH{n:011d}, secret: "benchSecret{n:029d}" }}]\n')
        out.write(f'        policies: {{ assume: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{account}:role/role{n}"}}]}}\' }}\n')
    out.write("    roles:\n")
    for r in range(1000):
        n = a * 1000 + r
        out.write(f"      - name: role{n}\n")
        out.write(f'        trust_policy: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/user{n}"}},"Action":"sts:AssumeRole"}}]}}\'\n')
EOF

startup() {
  local label="$1"; shift
  start_server "startup" "$@"
  local rss; rss="$(rss_mib)"
  local check
  check="$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:sts" \
    --user "AKIABENCH00000009999:benchSecret00000000000000000000000009999" \
    -H "content-type: application/x-www-form-urlencoded" \
    -d "$GCI_BODY" "http://127.0.0.1:$PORT/")"
  [ "$check" = 200 ] || { echo "bench: user9999 cannot call ($check)" >&2; exit 1; }
  stop_server
  STARTUP_ROWS+=("| $label | $READY_MS | $rss |")
}
STARTUP_ROWS=()
startup "first start: apply the file (20,000 entities + 10,000 keys), SQLite" --data-dir "$WORK/big" --config "$WORK/big.yaml"
startup "restart, same file (nothing to change), SQLite" --data-dir "$WORK/big" --config "$WORK/big.yaml"
startup "restart, no file (load the store), SQLite" --data-dir "$WORK/big"

echo
echo "| start-up with 10,000 users + 10,000 roles | process start → ready, ms | RSS at ready, MiB |"
echo "|---|---|---|"
printf '%s\n' "${STARTUP_ROWS[@]}"
