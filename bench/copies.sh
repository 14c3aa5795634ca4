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
HERE=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=bench/gateway.sh
. "$HERE/gateway.sh"
KEY="sk-copies000000000000000000000000000000000000000000000"
cleanup() {
  kill ${SIM:-} ${GW:-} 2>/dev/null || true
  perf probe -q -d 'probe_libc:sy_*' 2>/dev/null || true
}
trap cleanup EXIT
start_gateway "$BIN" "$DIR" "$KEY"
python3 "$HERE/chat_load.py" "$GW_PORT" "$KEY" 400 --fund
sleep 0.5
perf record -q "${EVENTS[@]}" -p "$GW" -o "$DIR/copies.data" >/dev/null 2>&1 & REC=$!
sleep 1
python3 "$HERE/chat_load.py" "$GW_PORT" "$KEY" "$N"
sleep 0.3
kill -INT "$REC"; wait "$REC" || true
perf script -i "$DIR/copies.data" -F comm,trace 2>/dev/null | awk -v n="$N" -v bin="$BIN" '
  { for (i = 1; i <= NF; i++) if ($i ~ /^len=/) { split($i, a, "="); v = strtonum(a[2]) }
    calls++; bytes += v; by[$1] += v; if (v >= 512) big[v]++ }
  END {
    printf "%s: %.0f copies, %.0f bytes per request\n", bin, calls / n, bytes / n
    for (t in by) printf "  thread %s: %.0f bytes per request\n", t, by[t] / n
    printf "  copies of 512 bytes or more (size: per request):\n"
    for (s in big) if (big[s] / n >= 0.1) printf "    %6d: %.1f\n", s, big[s] / n
  }'
