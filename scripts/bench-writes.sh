#!/usr/bin/env bash
# Control-plane writes against the size of the world: reproduces
# docs/benchmarks.md, "Writes and the size of the world".
#
#   scripts/bench-writes.sh                 # 10, 10,000 and 100,000 principals
#   SIZES="10 1000" scripts/bench-writes.sh
#
# For each size N, a world file of N users (each with an access key and an
# inline policy) and 1,000 REST APIs is generated; `iamgate serve` (release,
# SQLite, 127.0.0.1 only) starts on a fresh data directory, and boto3 runs
# ROUNDS rounds of: CreateUser, PutUserPolicy, CreateAccessKey, then the new
# key's first successful GetCallerIdentity; and UpdateRestApi +
# CreateDeployment on one of the APIs. Medians are printed per size, with
# start-up time (process start → /_iamgate/ready), a restart with the same
# file, and resident memory after the writes and after the restart (the
# steady state: the world file is not read again when it has not changed).
#
# With IAMGATE_TEST_POSTGRES_URL (and psql): two nodes on one PostgreSQL
# schema with the largest world; a key created through node 1 is used on
# node 2 as soon as node 2 accepts it (median of ROUNDS).
# Then 10,000 writes (TagUser) on SQLite, and the change log's size after
# them (it is trimmed to what live nodes still need).
#
# Environment: SIZES, ROUNDS (default 30), WRITES (10000), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES:-10 10000 100000}"
ROUNDS="${ROUNDS:-30}"
WRITES="${WRITES:-10000}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/release/iamgate"

python3 -c 'import boto3' 2>/dev/null || { echo "bench: boto3 is needed (pip install boto3)" >&2; exit 1; }
cargo build --release --locked -q -p iamgate

WORK="$(mktemp -d)"
PIDS=()
SCHEMAS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for schema in "${SCHEMAS[@]}"; do
    psql -q "$IAMGATE_TEST_POSTGRES_URL" -c "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

BENCH_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }

# start_server NAME ARGS… : starts a node, waits until ready; sets PID,
# PORT and READY_MS.
start_server() {
  local name="$1"; shift
  PORT="$(free_port)"
  local started; started="$(now_ns)"
  IAMGATE_SECRET_KEY="$BENCH_KEY" IAMGATE_LOG=warn \
    "$BIN" serve --listen "127.0.0.1:$PORT" "$@" 2>"$WORK/$name.log" &
  PID=$!
  PIDS+=("$PID")
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_iamgate/ready"; do
    if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/$name.log" >&2; exit 1; fi
    sleep 0.005
  done
  READY_MS=$(( ($(now_ns) - started) / 1000000 ))
}

stop_server() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }

# world N FILE: N users with a key and an inline policy, 1,000 REST APIs.
world() {
  python3 - "$1" "$2" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    out.write('accounts:\n  - id: "111122223333"\n')
    out.write('    root_access_key: { id: AKIABENCHROOT0000001, secret: "benchRootSecretAccessKey0000000000000001" }\n')
    out.write('    users:\n')
    for i in range(n):
        out.write(f'      - name: user{i}\n')
        out.write(f'        access_keys: [{{ id: AKIABENCH{i:011d}, secret: "benchSecret{i:029d}" }}]\n')
        out.write('        policies: { invoke: \'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}\' }\n')
    out.write('apis:\n')
    for a in range(1000):
        out.write(f'  - id: api{a:07d}\n    type: REST\n    account: "111122223333"\n    region: us-east-1\n    stages: [prod]\n')
        out.write('    methods:\n      - { path: /, method: GET, authorization: AWS_IAM, integration: { type: MOCK, status: 200 } }\n')
EOF
}

# drive URL ROUNDS [URL2]: the write rounds; prints the medians (ms).
drive() {
  python3 - "$@" <<'EOF'
import statistics, sys, time, uuid
import boto3, botocore

url, rounds = sys.argv[1], int(sys.argv[2])
reader = sys.argv[3] if len(sys.argv) > 3 else url
cfg = botocore.config.Config(retries={"max_attempts": 1}, region_name="us-east-1")
root = dict(aws_access_key_id="AKIABENCHROOT0000001",
            aws_secret_access_key="benchRootSecretAccessKey0000000000000001")
iam = boto3.client("iam", endpoint_url=url, config=cfg, **root)
apigw = boto3.client("apigateway", endpoint_url=url, config=cfg, **root)
times = {k: [] for k in ("CreateUser", "PutUserPolicy", "CreateAccessKey",
                         "first call with the new key", "write then first call",
                         "UpdateRestApi + CreateDeployment")}
policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
tag = uuid.uuid4().hex[:8]
for i in range(rounds):
    name = f"bench-{tag}-{i}"
    t0 = time.perf_counter()
    iam.create_user(UserName=name)
    t1 = time.perf_counter()
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    t2 = time.perf_counter()
    key = iam.create_access_key(UserName=name)["AccessKey"]
    t3 = time.perf_counter()
    sts = boto3.client("sts", endpoint_url=reader, config=cfg,
                       aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"])
    while True:
        try:
            sts.get_caller_identity()
            break
        except botocore.exceptions.ClientError:
            time.sleep(0.001)
    t4 = time.perf_counter()
    times["CreateUser"].append(t1 - t0)
    times["PutUserPolicy"].append(t2 - t1)
    times["CreateAccessKey"].append(t3 - t2)
    times["first call with the new key"].append(t4 - t3)
    times["write then first call"].append(t4 - t2)
    api = f"api{i % 1000:07d}"
    t5 = time.perf_counter()
    apigw.update_rest_api(restApiId=api, patchOperations=[
        {"op": "replace", "path": "/description", "value": f"round {i}"}])
    apigw.create_deployment(restApiId=api, stageName="prod")
    times["UpdateRestApi + CreateDeployment"].append(time.perf_counter() - t5)
print(" ".join(f"{statistics.median(v) * 1000:.1f}" for v in times.values()))
EOF
}

echo "bench: $(nproc) cores, $ROUNDS rounds, release build" >&2
ROWS=()
for n in $SIZES; do
  world "$n" "$WORK/world-$n.yaml"
  start_server "n$n" --data-dir "$WORK/data-$n" --config "$WORK/world-$n.yaml"
  first_ms=$READY_MS
  read -r cu pup cak first chain api < <(drive "http://127.0.0.1:$PORT" "$ROUNDS")
  rss=$(rss_kib "$PID")
  stop_server "$PID"
  start_server "n$n-again" --data-dir "$WORK/data-$n" --config "$WORK/world-$n.yaml"
  again_ms=$READY_MS
  again_rss=$(rss_kib "$PID")
  stop_server "$PID"
  ROWS+=("| $n | $cu | $pup | $cak | $first | $chain | $api | $first_ms | $again_ms | $(( rss / 1024 )) | $(( again_rss / 1024 )) |")
  eval "RSS_$n=$again_rss"
done

echo
echo "| principals | CreateUser ms | PutUserPolicy ms | CreateAccessKey ms | first call with the new key ms | CreateAccessKey → first call ms | UpdateRestApi + CreateDeployment ms | start-up ms (fresh) | start-up ms (restart, same file) | RSS MiB after the writes | RSS MiB after a restart |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
set -- $SIZES
smallest=$1; largest=${!#}
if [ "$smallest" != "$largest" ]; then
  small_rss="RSS_$smallest"; large_rss="RSS_$largest"
  python3 -c "print(f'resident memory per principal (after a restart): {(${!large_rss} - ${!small_rss}) * 1024 / ($largest - $smallest):.0f} bytes')"
fi

largest=${SIZES##* }
if [ -n "${IAMGATE_TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null; then
  schema="iamgate_bench_writes_$$_$(date +%s)"
  psql -q "$IAMGATE_TEST_POSTGRES_URL" -c "CREATE SCHEMA \"$schema\"" >/dev/null
  SCHEMAS+=("$schema")
  sep='?'; case "$IAMGATE_TEST_POSTGRES_URL" in *\?*) sep='&';; esac
  store="$IAMGATE_TEST_POSTGRES_URL${sep}options[search_path]=$schema"
  start_server pg1 --data-dir "$WORK/pg1" --store "$store" --config "$WORK/world-$largest.yaml"
  node1=$PORT; pid1=$PID
  start_server pg2 --data-dir "$WORK/pg2" --store "$store"
  node2=$PORT; pid2=$PID
  read -r _ _ _ first chain _ < <(drive "http://127.0.0.1:$node1" "$ROUNDS" "http://127.0.0.1:$node2")
  echo
  echo "PostgreSQL, $largest principals: CreateAccessKey on node 1 → the key's first successful call on node 2: median $chain ms (of which waiting for node 2: $first ms)"
  stop_server "$pid1"; stop_server "$pid2"
else
  echo "bench: SKIP two nodes on PostgreSQL (IAMGATE_TEST_POSTGRES_URL unset or no psql)" >&2
fi

world 10 "$WORK/world-log.yaml"
start_server log --data-dir "$WORK/data-log" --config "$WORK/world-log.yaml"
python3 - "http://127.0.0.1:$PORT" "$WRITES" <<'EOF'
import sys, boto3, botocore
url, writes = sys.argv[1], int(sys.argv[2])
cfg = botocore.config.Config(retries={"max_attempts": 1}, region_name="us-east-1")
iam = boto3.client("iam", endpoint_url=url, config=cfg, aws_access_key_id="AKIABENCHROOT0000001",
                   aws_secret_access_key="benchRootSecretAccessKey0000000000000001")
for i in range(writes):
    iam.tag_user(UserName="user0", Tags=[{"Key": "round", "Value": str(i)}])
EOF
sleep 6  # one check-in period: the node reports what it applied
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from changes').fetchone()[0])" "$WORK/data-log/iamgate.sqlite")
stop_server "$PID"
echo
echo "change log after $WRITES writes (SQLite, one node): $rows rows"
