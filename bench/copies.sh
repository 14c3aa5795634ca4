#!/usr/bin/env bash
# Bytes the gateway copies with memcpy/memmove per relayed chat, counted by a perf uprobe
# on glibc's copy routines. callgrind counts a `rep movsb` as one instruction whatever it
# copies, so large moves of futures and buffers hide there; this counts the bytes.
#
#   bench/copies.sh [BIN] [REQUESTS]
#
# Needs root and perf (Debian's linux-perf). Starts the simulator and the gateway (SQLite,
# usage log on) on 127.0.0.1, sends 400 warm-up chats, then records every copy of the
# gateway during REQUESTS (default 1000) chats from 4 connections, and prints the copies and
# bytes per request, by thread, and the sizes of the copies of 512 bytes or more.
set -euo pipefail
BIN=${1:-target/release/switchyard}
N=${2:-1000}
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)" >&2; exit 1; }
LIBC=$(ldd "$BIN" | awk '/libc\.so/ {print $3}')
DIR=$(mktemp -d /tmp/switchyard-copies.XXXX)
# glibc picks one variant per CPU; probe every one it has, under one event group.
EVENTS=()
for f in __memmove_avx512_unaligned_erms __memmove_evex_unaligned_erms __memmove_avx_unaligned_erms \
         __memmove_sse2_unaligned_erms; do
  if perf probe -q -x "$LIBC" --add "sy_$f=$f len=%dx:u64" 2>/dev/null; then EVENTS+=(-e "probe_libc:sy_$f"); fi
done
[ ${#EVENTS[@]} -gt 0 ] || { echo "no memmove variant could be probed in $LIBC" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SIM_PORT=$(port); GW_PORT=$(port)
KEY="sk-copies000000000000000000000000000000000000000000000"
"$BIN" sim --listen "127.0.0.1:$SIM_PORT" >/dev/null 2>&1 & SIM=$!
cleanup() {
  kill $SIM ${GW:-} 2>/dev/null || true
  perf probe -q -d 'probe_libc:sy_*' 2>/dev/null || true
}
trap cleanup EXIT
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
SWITCHYARD_ROOT_KEY=$KEY SWITCHYARD_LOG=warn "$BIN" serve --listen "127.0.0.1:$GW_PORT" \
  --data-dir "$DIR" --config "$DIR/gw.toml" >"$DIR/gateway.log" 2>&1 & GW=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$GW_PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$GW_PORT" "$KEY" "$N" "$GW" "$DIR/copies.data" "${EVENTS[@]}" <<'PY'
import http.client, json, subprocess, sys, threading, time
port, key, n, pid, out, events = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
auth = {"authorization": "Bearer " + key, "content-type": "application/json"}
def call(c, method, path, body):
    c.request(method, path, json.dumps(body).encode() if body is not None else None, auth)
    r = c.getresponse(); data = r.read()
    if r.status != 200: raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return data
c = http.client.HTTPConnection("127.0.0.1", port)
me = json.loads(call(c, "GET", "/api/me", None))
uid = me.get("user", me)["id"]
call(c, "POST", f"/api/users/{uid}/balance", {"amount_nano": 10**15, "reason": "copies"})
chat = {"model": "gpt-4o-mini", "max_tokens": 64,
        "messages": [{"role": "user", "content": "Say something short about relays."}]}
def load(count):
    def worker(k):
        w = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(k): call(w, "POST", "/v1/chat/completions", chat)
    ts = [threading.Thread(target=worker, args=(count // 4,)) for _ in range(4)]
    [t.start() for t in ts]; [t.join() for t in ts]
load(400); time.sleep(0.5)
rec = subprocess.Popen(["perf", "record", "-q", *events, "-p", pid, "-o", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.0)
load(n); time.sleep(0.3)
rec.send_signal(2); rec.wait()
PY
perf script -i "$DIR/copies.data" -F comm,trace 2>/dev/null | awk -v n="$N" -v bin="$BIN" '
  { for (i = 1; i <= NF; i++) if ($i ~ /^len=/) { split($i, a, "="); v = strtonum(a[2]) }
    calls++; bytes += v; by[$1] += v; if (v >= 512) big[v]++ }
  END {
    printf "%s: %.0f copies, %.0f bytes per request\n", bin, calls / n, bytes / n
    for (t in by) printf "  thread %s: %.0f bytes per request\n", t, by[t] / n
    printf "  copies of 512 bytes or more (size: per request):\n"
    for (s in big) if (big[s] / n >= 0.1) printf "    %6d: %.1f\n", s, big[s] / n
  }'
