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
HERE=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=bench/gateway.sh
. "$HERE/gateway.sh"
KEY="sk-callgrind0000000000000000000000000000000000000000000"
trap 'kill ${SIM:-} ${GW:-} 2>/dev/null || true' EXIT
start_gateway "$BIN" "$DIR" "$KEY" valgrind --tool=callgrind --separate-threads=yes \
  --callgrind-out-file="$DIR/callgrind.out.%p"
python3 "$HERE/chat_load.py" "$GW_PORT" "$KEY" 200 ${MODE:+"$MODE"} --fund
sleep 0.5
callgrind_control -z "$GW" >/dev/null
python3 "$HERE/chat_load.py" "$GW_PORT" "$KEY" "$N" ${MODE:+"$MODE"}
sleep 0.3
callgrind_control -d "$GW" >/dev/null
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
