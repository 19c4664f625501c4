#!/usr/bin/env bash
# Authorizers over HTTP: reproduces docs/benchmarks.md, "Lambda and JWT
# authorizers".
#
#   scripts/bench-authorizers.sh
#
# Builds the release binary and starts, on 127.0.0.1 only, `iamgate serve`
# with one HTTP API of three routes answering the same MOCK integration:
#   GET /none    authorization NONE
#   GET /lambda  a Lambda REQUEST authorizer (payload 2.0, simple response)
#                cached for 300 s on the Authorization header
#   GET /jwt     a JWT authorizer whose issuer is served on loopback
# beside two small Python servers: a Lambda Invoke API answering
# `{"isAuthorized": true}` (called once per cache period) and an OpenID
# issuer publishing the test key set of testdata/jwt. The token is an RS256
# JWT signed with testdata/jwt/signing-key.der by openssl. oha sends the
# same Authorization header to every route (NONE ignores it); the routes
# alternate ROUNDS times (3), DURATION each (10s), CONNECTIONS (16); each
# authorizer's req/s over NONE's is the ratio of the sums.
#
# Environment: OHA (default ~/.cargo/bin/oha), CONNECTIONS, DURATION,
# ROUNDS, CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

OHA="${OHA:-$HOME/.cargo/bin/oha}"
CONNECTIONS="${CONNECTIONS:-16}"
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/release/iamgate"

command -v "$OHA" >/dev/null || { echo "bench: oha not found ($OHA)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench: openssl is needed" >&2; exit 1; }
cargo build --release --locked -q -p iamgate

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

LAMBDA_PORT="$(free_port)"
ISSUER_PORT="$(free_port)"
PORT="$(free_port)"
ISSUER="http://127.0.0.1:$ISSUER_PORT"

# The Lambda Invoke API and the issuer, one small threaded server each.
cat >"$WORK/stubs.py" <<'PY'
import http.server, json, sys, threading
kind, port, jwks_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
issuer = f"http://127.0.0.1:{port}"
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.answer({"isAuthorized": True, "context": {"tier": "bench"}})
    def do_GET(self):
        if self.path.endswith("/openid-configuration"):
            self.answer({"issuer": issuer, "jwks_uri": issuer + "/jwks.json"})
        else:
            self.answer(json.load(open(jwks_path)))
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY
python3 "$WORK/stubs.py" lambda "$LAMBDA_PORT" testdata/jwt/jwks.json & PIDS+=($!)
python3 "$WORK/stubs.py" issuer "$ISSUER_PORT" testdata/jwt/jwks.json & PIDS+=($!)

# An RS256 token for audience `bench`, valid for an hour.
now="$(date +%s)"
header="$(printf '{"alg":"RS256","typ":"JWT","kid":"test-key-1"}' | b64url)"
claims="$(printf '{"iss":"%s","aud":"bench","sub":"bench-user","iat":%s,"exp":%s}' "$ISSUER" "$now" "$((now + 3600))" | b64url)"
signature="$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -keyform DER -sign testdata/jwt/signing-key.der -binary | b64url)"
TOKEN="$header.$claims.$signature"

cat >"$WORK/world.yaml" <<EOF
accounts:
  - id: "111122223333"
apis:
  - id: benchauth1
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - { name: lambda, type: REQUEST, function: allow, lambda_endpoint: "http://127.0.0.1:$LAMBDA_PORT",
          identity_source: [\$request.header.Authorization], payload_format_version: "2.0",
          simple_responses: true, ttl: 300 }
      - { name: jwt, type: JWT, identity_source: \$request.header.Authorization,
          issuer: "$ISSUER", audience: [bench] }
    routes:
      - { key: GET /none, authorization: NONE, integration: { type: MOCK, status: 200, body: '{"ok":true}' } }
      - { key: GET /lambda, authorization: CUSTOM, authorizer: lambda, integration: { type: MOCK, status: 200, body: '{"ok":true}' } }
      - { key: GET /jwt, authorization: JWT, authorizer: jwt, integration: { type: MOCK, status: 200, body: '{"ok":true}' } }
EOF

IAMGATE_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')" IAMGATE_LOG=warn \
  "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --config "$WORK/world.yaml" 2>"$WORK/serve.log" &
PIDS+=($!)
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_iamgate/ready"; do sleep 0.05; done

URL="http://127.0.0.1:$PORT/restapis/benchauth1/\$default/_user_request_"
AUTH=(-H "Authorization: Bearer $TOKEN")
for route in none lambda jwt; do
  code="$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/$route")"
  [ "$code" = 200 ] || { echo "bench: GET /$route answered $code" >&2; cat "$WORK/serve.log" >&2; exit 1; }
  "$OHA" --no-tui --output-format quiet -c "$CONNECTIONS" -n 2000 "${AUTH[@]}" "$URL/$route" >/dev/null
done

# oha_run ROUTE : req/s of one bounded run, every answer a 200.
oha_run() {
  "$OHA" --no-tui --output-format json -c "$CONNECTIONS" -z "$DURATION" "${AUTH[@]}" "$URL/$1" >"$WORK/$1.json"
  python3 - "$WORK/$1.json" "$1" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
codes = run.get("statusCodeDistribution", {})
if set(codes) != {"200"}:
    sys.exit(f"bench: {sys.argv[2]}: answers {codes} {run.get('errorDistribution')}")
print(f"{run['summary']['requestsPerSec']:.0f}")
PY
}

echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $CONNECTIONS connections, $DURATION per run, $("$OHA" --version)" >&2
declare -A SUM=([none]=0 [lambda]=0 [jwt]=0)
RUNS=()
for _ in $(seq "$ROUNDS"); do
  row=""
  for route in none lambda jwt; do
    rps="$(oha_run "$route")"
    SUM[$route]=$((SUM[$route] + rps))
    row="$row$rps/"
  done
  RUNS+=("${row%/}")
done
echo "req/s NONE/Lambda (cached)/JWT per round: ${RUNS[*]}"
python3 -c "print(f'Lambda authorizer (cached) / NONE: {${SUM[lambda]} / ${SUM[none]}:.3f}x; JWT authorizer / NONE: {${SUM[jwt]} / ${SUM[none]}:.3f}x')"
echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
