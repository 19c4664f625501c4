#!/usr/bin/env bash
# execute-api over HTTP: reproduces the table of docs/benchmarks.md,
# "execute-api over HTTP".
#
#   scripts/bench-execute-api.sh
#
# Builds the release binary, starts `iamgate serve` on 127.0.0.1 only (a
# temporary data directory, SQLite), and drives it with oha, which signs
# every request with SigV4 itself (bounded: DURATION per run, default 10s):
#   small world: one account, one caller, one REST API;
#   large world: 10,000 principals (5,000 users, each with an access key
#                and an inline policy, and 5,000 roles, each with a trust
#                policy and an inline policy) in 10 accounts, and 1,000
#                REST APIs (half with a resource policy).
# In each world the same MOCK integration is called twice, path-style
# (/restapis/{id}/prod/_user_request_/…), in this order:
#   1. GET /none   authorization NONE     (routing + integration, no auth)
#   2. GET /none   the same, signed by oha (a NONE method does not read the
#                  signature: the client pays for signing, the server not)
#   3. GET /iam    authorization AWS_IAM  (+ SigV4 + identity policy)
# and every answer must be a 200. oha runs on the same cores as the server,
# and signing every request costs it CPU, so AWS_IAM / NONE mixes client
# and server cost; AWS_IAM / signed NONE is the server's own share.
# large/small compares the worlds.
#
# Then the cost of decision records on the hot path: the small world's
# AWS_IAM route with recording (the default) and with
# `--decision-records 0`, alternated four times; recorded / unrecorded is
# the req/s ratio of the sums. `ONLY=records` runs this part alone.
# `ONLY=persist` instead compares recording with the records persisted to
# the store (`--persist-decisions on`, the SQLite store of the run) and
# without (`off`), alternated four times, and prints how many records each
# persisting run wrote and dropped.
#
# `ONLY=replay` is the server's cost of IAM with the client's taken out:
# one botocore signature per route, made once and replayed by oha on every
# request (API Gateway has no replay check within the signature's 15
# minutes), so both routes send requests of the same size and oha signs
# nothing. In each world, NONE and AWS_IAM alternate ROUNDS times (3);
# AWS_IAM / NONE is the ratio of the sums.
#
# Environment: OHA (default ~/.cargo/bin/oha), CONNECTIONS (16), DURATION
# (10s), ROUNDS (3), ONLY (records, persist, replay), CARGO_TARGET_DIR,
# IAMGATE_BIN (a binary to measure instead of building this tree's: an
# older build, to compare two in one session).
set -euo pipefail
cd "$(dirname "$0")/.."

OHA="${OHA:-$HOME/.cargo/bin/oha}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-10s}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="${IAMGATE_BIN:-$TARGET_DIR/release/iamgate}"

command -v "$OHA" >/dev/null || { echo "bench: oha not found ($OHA)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
[ -n "${IAMGATE_BIN:-}" ] || cargo build --release --locked -q -p iamgate

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
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

# oha_run NAME ARGS… : one bounded run; prints "rps p99_ms" and
# checks that every answer was a 200.
oha_run() {
  local name="$1"; shift
  "$OHA" --no-tui --output-format json -c "$CONNECTIONS" -z "$DURATION" "$@" >"$WORK/$name.json"
  python3 - "$WORK/$name.json" "$name" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
codes = run.get("statusCodeDistribution", {})
bad = {code: n for code, n in codes.items() if code != "200"}
if bad or not codes:
    sys.exit(f"bench: {sys.argv[2]}: non-200 answers {codes} {run.get('errorDistribution')}")
p = run["latencyPercentiles"]
print(f"{run['summary']['requestsPerSec']:.0f} {p['p99'] * 1000:.3f}")
PY
}

BENCH_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
# The caller and the API every run targets, in both worlds.
CALLER_ID=AKIABENCHCALLER00001
CALLER_SECRET=benchCallerSecretAccessKey0000000000001
API=benchapi01
OWNER=111111111111

# world.py PATH ACCOUNTS USERS_PER_ACCOUNT ROLES_PER_ACCOUNT APIS
cat >"$WORK/world.py" <<'PY'
import sys
path, accounts, users, roles, apis = sys.argv[1], *map(int, sys.argv[2:])
owner, api = "111111111111", "benchapi01"
out = open(path, "w")
w = out.write
w("accounts:\n")
for a in range(accounts):
    account = owner if a == 0 else f"{100000000000 + a:012d}"
    w(f'  - id: "{account}"\n    users:\n')
    if a == 0:
        # The benchmark's caller: allowed on the bench API by an identity policy.
        w("      - name: caller\n")
        w('        access_keys: [{ id: AKIABENCHCALLER00001, secret: "benchCallerSecretAccessKey0000000000001" }]\n')
        w(f'        policies: {{ invoke: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{owner}:{api}/*"}}]}}\' }}\n')
    for u in range(users):
        n = a * users + u
        target = f"api{n % max(apis - 1, 1):07d}"
        w(f"      - name: user{n}\n")
        w(f'        access_keys: [{{ id: AKIABENCH{n:011d}, secret: "benchSecret{n:029d}" }}]\n')
        w(f'        policies: {{ invoke: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:*:{target}/*"}},{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{account}:role/role{n}"}}]}}\' }}\n')
    if roles:
        w("    roles:\n")
    for r in range(roles):
        n = a * roles + r
        w(f"      - name: role{n}\n")
        w(f'        trust_policy: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}\'\n')
        w(f'        policies: {{ invoke: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{account}:*/prod/GET/*"}}]}}\' }}\n')

def methods(indent):
    return (f"{indent}methods:\n"
            f"{indent}  - {{ path: /none, method: GET, authorization: NONE, integration: {{ type: MOCK, status: 200, body: '{{\"ok\":true}}' }} }}\n"
            f"{indent}  - {{ path: /iam, method: GET, authorization: AWS_IAM, integration: {{ type: MOCK, status: 200, body: '{{\"ok\":true}}' }} }}\n")

w("apis:\n")
w(f'  - id: {api}\n    type: REST\n    account: "{owner}"\n    region: us-east-1\n    stages: [prod]\n')
w(methods("    "))
for i in range(apis - 1 if apis else 0):
    account = owner if i % accounts == 0 else f"{100000000000 + i % accounts:012d}"
    w(f'  - id: api{i:07d}\n    type: REST\n    account: "{account}"\n    region: us-east-1\n    stages: [prod]\n')
    if i % 2:
        w(f'    policy: \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}},{{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/DELETE/*","Condition":{{"NotIpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}]}}\'\n')
    w(methods("    "))
PY
python3 "$WORK/world.py" "$WORK/small.yaml" 1 0 0 1
python3 "$WORK/world.py" "$WORK/large.yaml" 10 500 500 1000

BASE_PATH="/restapis/$API/prod/_user_request_"
SIGN=(--aws-sigv4 "aws:amz:us-east-1:execute-api" -a "$CALLER_ID:$CALLER_SECRET")

ROWS=()
declare -A IAM_RPS NONE_RPS SIGNED_RPS
measure() {
  local world="$1"
  start_server "$world" --data-dir "$WORK/$world-data" --config "$WORK/$world.yaml"
  local ready="$READY_MS"
  local url="http://127.0.0.1:$PORT$BASE_PATH"
  # Both routes must answer before anything is timed.
  for route in none iam; do
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:execute-api" \
      --user "$CALLER_ID:$CALLER_SECRET" "$url/$route")"
    [ "$code" = 200 ] || { echo "bench: $world GET /$route answered $code" >&2; exit 1; }
  done
  "$OHA" --no-tui --output-format quiet -c "$CONNECTIONS" -n 2000 "${SIGN[@]}" "$url/iam" >/dev/null
  read -r n_rps n_p99 < <(oha_run "$world-none" "$url/none")
  read -r s_rps s_p99 < <(oha_run "$world-none-signed" "${SIGN[@]}" "$url/none")
  read -r i_rps i_p99 < <(oha_run "$world-iam" "${SIGN[@]}" "$url/iam")
  local rss; rss="$(rss_mib)"
  stop_server
  NONE_RPS[$world]="$n_rps"; SIGNED_RPS[$world]="$s_rps"; IAM_RPS[$world]="$i_rps"
  local ratio ratio_signed added added_signed
  ratio="$(python3 -c "print(f'{$i_rps / $n_rps:.2f}')")"
  ratio_signed="$(python3 -c "print(f'{$i_rps / $s_rps:.2f}')")"
  added="$(python3 -c "print(f'{$i_p99 - $n_p99:+.3f}')")"
  added_signed="$(python3 -c "print(f'{$i_p99 - $s_p99:+.3f}')")"
  ROWS+=("| $world | $n_rps / $n_p99 | $s_rps / $s_p99 | $i_rps / $i_p99 | **${ratio}×** / $added | **${ratio_signed}×** / $added_signed | $ready | $rss |")
}

# recording_run ARGS… : the small world's AWS_IAM req/s with these serve arguments.
recording_run() {
  start_server small-records --data-dir "$WORK/small-records-data" --config "$WORK/small.yaml" "$@"
  local url="http://127.0.0.1:$PORT$BASE_PATH/iam"
  "$OHA" --no-tui --output-format quiet -c "$CONNECTIONS" -n 2000 "${SIGN[@]}" "$url" >/dev/null
  read -r rps _ < <(oha_run small-records "${SIGN[@]}" "$url")
  # Let a persisting writer catch up, then keep its counters.
  sleep 1
  curl -sf "http://127.0.0.1:$PORT/_iamgate/metrics" \
    | grep '^iamgate_decision_records_' | tr '\n' ' ' >>"$WORK/persist-counters" || true
  echo >>"$WORK/persist-counters"
  stop_server
  echo "$rps"
}

measure_recording() {
  local on=0 off=0 runs=()
  for _ in 1 2 3 4; do
    local a b
    a="$(recording_run)"; b="$(recording_run --decision-records 0)"
    on=$((on + a)); off=$((off + b)); runs+=("$a/$b")
  done
  echo
  echo "decision records, small world, AWS_IAM req/s recorded/unrecorded per pair: ${runs[*]}"
  python3 -c "print(f'recorded / unrecorded: {$on / $off:.3f}× ({($on - $off) / $off * 100:+.1f}%)')"
}

measure_persisting() {
  local on=0 off=0 runs=()
  : >"$WORK/persist-counters"
  for _ in 1 2 3 4; do
    local a b
    a="$(recording_run --persist-decisions on)"; b="$(recording_run --persist-decisions off)"
    on=$((on + a)); off=$((off + b)); runs+=("$a/$b")
  done
  echo
  echo "decision records, small world, AWS_IAM req/s persisted/not persisted per pair: ${runs[*]}"
  grep . "$WORK/persist-counters" || true
  python3 -c "print(f'persisted / not persisted: {$on / $off:.3f}× ({($on - $off) / $off * 100:+.1f}%)')"
}

# botocore_headers URL : the Authorization and X-Amz-Date headers of one
# botocore signature of `GET URL` by the caller, as oha -H arguments.
botocore_headers() {
  python3 - "$1" "$CALLER_ID" "$CALLER_SECRET" <<'PY'
import sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key, secret = sys.argv[1:]
request = AWSRequest(method="GET", url=url)
SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
for name in ("Authorization", "X-Amz-Date"):
    print("-H")
    print(f"{name}: {request.headers[name]}")
PY
}

measure_replayed() {
  local world="$1" none=0 iam=0 runs=()
  start_server "$world-replay" --data-dir "$WORK/$world-replay-data" --config "$WORK/$world.yaml"
  local url="http://127.0.0.1:$PORT$BASE_PATH"
  local none_headers iam_headers
  mapfile -t none_headers < <(botocore_headers "$url/none")
  mapfile -t iam_headers < <(botocore_headers "$url/iam")
  "$OHA" --no-tui --output-format quiet -c "$CONNECTIONS" -n 2000 "${iam_headers[@]}" "$url/iam" >/dev/null
  for _ in $(seq "${ROUNDS:-3}"); do
    local a b
    read -r a _ < <(oha_run "$world-replay-none" "${none_headers[@]}" "$url/none")
    read -r b _ < <(oha_run "$world-replay-iam" "${iam_headers[@]}" "$url/iam")
    none=$((none + a)); iam=$((iam + b)); runs+=("$a/$b")
  done
  stop_server
  echo "$world world, replayed botocore signature, req/s NONE/AWS_IAM per round: ${runs[*]}"
  python3 -c "print(f'$world: AWS_IAM / NONE {$iam / $none:.3f}x')"
}

echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $CONNECTIONS connections, $DURATION per run, $("$OHA" --version)" >&2
if [ "${ONLY:-}" = records ]; then
  measure_recording
  exit 0
fi
if [ "${ONLY:-}" = replay ]; then
  python3 -c 'import botocore' 2>/dev/null || { echo "bench: botocore is needed (pip install botocore)" >&2; exit 1; }
  measure_replayed small
  measure_replayed large
  echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  exit 0
fi
if [ "${ONLY:-}" = persist ]; then
  measure_persisting
  exit 0
fi
measure small
measure large
echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo
echo "| world | NONE req/s / p99 ms | NONE signed req/s / p99 ms | AWS_IAM req/s / p99 ms | AWS_IAM / NONE: req/s ratio / added p99 ms | AWS_IAM / NONE signed: req/s ratio / added p99 ms | ready ms | RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
python3 -c "print(f'large / small: AWS_IAM {${IAM_RPS[large]} / ${IAM_RPS[small]}:.2f}×, NONE {${NONE_RPS[large]} / ${NONE_RPS[small]}:.2f}×, NONE signed {${SIGNED_RPS[large]} / ${SIGNED_RPS[small]}:.2f}×')"
measure_recording
