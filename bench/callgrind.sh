#!/usr/bin/env bash
# Instructions the gateway spends per relayed request, counted by callgrind: the same
# figure for the same build whatever else the machine is doing, so two builds can be
# compared without the ±15% noise of wall-clock runs on a shared machine.
#
#   bench/callgrind.sh [BIN] [REQUESTS] [stream]
#
# BIN defaults to target/release/switchyard. The simulator and the gateway (SQLite, usage
# log on, key auth, hold and settle, as users run it; the gateway under valgrind) listen on
# 127.0.0.1; 200 warm-up requests, then REQUESTS (default 2000) non-streamed chats, or
# streamed ones with `stream`, from 4 keep-alive connections. Counters are zeroed after the
# warm-up and dumped after the load, so start-up is not counted. Prints Ir per request, in
# all and split into the request path and the usage-log writer thread, and leaves one
# callgrind file per thread for `callgrind_annotate --inclusive=yes FILE`.
set -euo pipefail
BIN=${1:-target/release/switchyard}
N=${2:-2000}
MODE=${3:-}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
DIR=$(mktemp -d /tmp/switchyard-callgrind.XXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SIM_PORT=$(port); GW_PORT=$(port)
KEY="sk-callgrind0000000000000000000000000000000000000000000"
"$BIN" sim --listen "127.0.0.1:$SIM_PORT" >/dev/null 2>&1 & SIM=$!
trap 'kill $SIM ${GW:-} 2>/dev/null || true' EXIT
cat > "$DIR/gw.toml" <<TOML
[[channels]]
name = "sim"
base_url = "http://127.0.0.1:$SIM_PORT"
keys = ["sk-sim"]
models = ["gpt-4o-mini"]

[[prices]]
model = "gpt-4o-mini"
input_per_mtok = 0.15
output_per_mtok = 0.60
TOML
SWITCHYARD_ROOT_KEY=$KEY SWITCHYARD_LOG=warn valgrind --tool=callgrind \
  --separate-threads=yes --callgrind-out-file="$DIR/callgrind.out.%p" "$BIN" serve --listen "127.0.0.1:$GW_PORT" \
  --data-dir "$DIR" --config "$DIR/gw.toml" >"$DIR/gateway.log" 2>&1 & GW=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$GW_PORT/healthz" >/dev/null && break; sleep 0.2; done
python3 - "$GW_PORT" "$KEY" "$N" "$MODE" "$GW" <<'PY'
import http.client, json, subprocess, sys, threading, time
port, key, n, mode, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
auth = {"authorization": "Bearer " + key, "content-type": "application/json"}
def call(c, method, path, body):
    c.request(method, path, json.dumps(body).encode() if body is not None else None, auth)
    r = c.getresponse(); data = r.read()
    if r.status != 200: raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return data
c = http.client.HTTPConnection("127.0.0.1", port)
me = json.loads(call(c, "GET", "/api/me", None))
uid = me.get("user", me)["id"]
call(c, "POST", f"/api/users/{uid}/balance", {"amount_nano": 10**15, "reason": "callgrind"})
chat = {"model": "gpt-4o-mini", "max_tokens": 64, "stream": mode == "stream",
        "messages": [{"role": "user", "content": "Say something short about relays."}]}
def load(count):
    def worker(k):
        w = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(k): call(w, "POST", "/v1/chat/completions", chat)
    ts = [threading.Thread(target=worker, args=(count // 4,)) for _ in range(4)]
    [t.start() for t in ts]; [t.join() for t in ts]
load(200); time.sleep(0.5)
subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
load(n); time.sleep(0.3)
subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
PY
sleep 0.5
kill "$GW"; wait "$GW" 2>/dev/null || true; GW=
# One file per thread: the usage-log writer's count moves by a few per cent from run to run
# (under valgrind a 50 ms batch holds a varying few dozen rows, each carrying a share of the
# transaction's fixed cost), so it is reported apart from the request path's, which does not.
TOTAL=0; WRITER=0; BIGGEST=; MOST=0
for f in "$DIR"/callgrind.out.*.1-*; do   # part 1 (the dump after the load), thread by thread
  n=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' || true)
  n=${n:-0}; TOTAL=$((TOTAL + n))
  if callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep -q 'sqlite_writer'; then WRITER=$((WRITER + n)); fi
  if [ "$n" -gt "$MOST" ]; then MOST=$n; BIGGEST=$f; fi
done
echo "$BIN${MODE:+ ($MODE)}: $((TOTAL / N)) instructions per request ($TOTAL over $N):" \
  "$(((TOTAL - WRITER) / N)) on the request path, $((WRITER / N)) in the usage-log writer;" \
  "busiest thread's file $BIGGEST"
