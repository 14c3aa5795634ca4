# Sourced by the scripts that count what a request costs (callgrind.sh, copies.sh): a
# simulator and a gateway (SQLite, usage log on, key auth, hold and settle, as users run
# it) on 127.0.0.1, with one priced model.
#
#   start_gateway BIN DIR KEY [WRAPPER…]
#
# starts both (the gateway under WRAPPER, e.g. valgrind, when given), waits for /healthz,
# and sets SIM and GW (their pids) and GW_PORT. The caller ends them (`kill $SIM $GW`).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_gateway() {
  local bin=$1 dir=$2 key=$3
  shift 3
  local sim_port
  sim_port=$(free_port); GW_PORT=$(free_port)
  "$bin" sim --listen "127.0.0.1:$sim_port" >/dev/null 2>&1 & SIM=$!
  cat > "$dir/gw.toml" <<TOML
[[channels]]
name = "sim"
base_url = "http://127.0.0.1:$sim_port"
keys = ["sk-sim"]
models = ["gpt-4o-mini"]

[[prices]]
model = "gpt-4o-mini"
input_per_mtok = 0.15
output_per_mtok = 0.60
TOML
  SWITCHYARD_ROOT_KEY=$key SWITCHYARD_LOG=warn "$@" "$bin" serve --listen "127.0.0.1:$GW_PORT" \
    --data-dir "$dir" --config "$dir/gw.toml" >"$dir/gateway.log" 2>&1 & GW=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$GW_PORT/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "the gateway did not answer /healthz; see $dir/gateway.log" >&2
  return 1
}
