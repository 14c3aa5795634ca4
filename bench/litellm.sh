#!/usr/bin/env bash
# LiteLLM's proxy side by side with the gateway: one simulator, LiteLLM and the gateway both
# in front of it, measured in the same run as direct calls (see docs/BENCHMARKS.md).
#
#   bench/litellm.sh [switchyard-bench flags…]       e.g. bench/litellm.sh --secs 3 --runs 3
#
# Installs litellm[proxy]==1.108.7 into target/litellm-venv on first use (≈3 min, ≈750 MB;
# needs PyPI once), then runs offline: LITELLM_LOCAL_MODEL_COST_MAP=True, everything on
# 127.0.0.1. BIN and BENCH name the binaries (default: the release builds).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.108.7
BIN=${BIN:-target/release/switchyard}
BENCH=${BENCH:-target/release/switchyard-bench}
VENV=${LITELLM_VENV:-target/litellm-venv}
KEY=sk-bench

for b in "$BIN" "$BENCH"; do
  [ -x "$b" ] || { echo "$b is missing: cargo build --release -p switchyard -p switchyard-bench" >&2; exit 1; }
done

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$VERSION')" 2>/dev/null; then
  echo "installing litellm[proxy]==$VERSION into $VENV…" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "litellm[proxy]==$VERSION"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SIM_PORT=$(free_port)
LL_PORT=$(free_port)
SIM=http://127.0.0.1:$SIM_PORT
LL=http://127.0.0.1:$LL_PORT
work=$(mktemp -d)
pids=()
cleanup() {
  # Each child leads its own process group (setsid): end the group, and only it. LiteLLM
  # can wait a long time for its background jobs on SIGTERM, so it gets 5 s, then SIGKILL.
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

setsid "$BIN" sim --listen "127.0.0.1:$SIM_PORT" >"$work/sim.log" 2>&1 &
pids+=($!)

# The same two models the gateway's bench config serves, on the same simulator.
cat >"$work/litellm.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: $SIM/v1
      api_key: sk-sim-bench
  - model_name: bench-20ms
    litellm_params:
      model: openai/gpt-4o-mini@latency_ms=20
      api_base: $SIM/v1
      api_key: sk-sim-bench
general_settings:
  master_key: $KEY
YAML

# Bytecode is cached in the venv after the first start (which takes minutes on a busy
# machine); PYTHONDONTWRITEBYTECODE would make every start that slow.
unset PYTHONDONTWRITEBYTECODE
LITELLM_MASTER_KEY=$KEY OPENAI_API_KEY=x LITELLM_LOCAL_MODEL_COST_MAP=True \
  LITELLM_TELEMETRY=False NO_DOCS=True \
  setsid "$VENV/bin/litellm" --config "$work/litellm.yaml" --host 127.0.0.1 --port "$LL_PORT" \
  >"$work/litellm.log" 2>&1 &
pids+=($!)

echo "waiting for LiteLLM on $LL…" >&2
for _ in $(seq 1 1200); do
  if curl -sf -o /dev/null "$LL/health/liveliness"; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then
    echo "LiteLLM exited:" >&2; tail -n 40 "$work/litellm.log" >&2; exit 1
  fi
  sleep 0.5
done
curl -sf -o /dev/null "$LL/health/liveliness" || { echo "LiteLLM not ready in 600 s:" >&2; tail -n 40 "$work/litellm.log" >&2; exit 1; }

"$BENCH" --bin "$BIN" --sim "$SIM" --litellm "$LL" --litellm-key "$KEY" "$@"
