#!/usr/bin/env bash
# GPU check of the PyTorch trainer on one H100/H200: randomly initialised Qwen2 models of ~0.5B and
# ~1.5B parameters (from a config, no downloads), trainer steps on 32 prompts × 16 responses of 2–4k
# tokens, objective parity with the golden vectors in float64/float32/bf16; prints tokens/s, step
# time, peak memory and MFU per model, and one JSON object last. Needs python3 with torch (CUDA) and
# transformers. `scripts/gpu-check.sh --dry-run` runs tiny sizes on CPU with the built-in model.
#   PYTHON=python3 scripts/gpu-check.sh [--sizes 0.5b,1.5b] [--steps 2] [--micro-batch-tokens 8192]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-${NFT_TORCH_PYTHON:-python3}}"
export PYTHONPATH="$PWD/engines/torch${PYTHONPATH:+:$PYTHONPATH}"
export PYTORCH_CUDA_ALLOC_CONF="${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PYTHON" -c 'import torch, sys; print(f"torch {torch.__version__}, cuda {torch.version.cuda}, python {sys.version.split()[0]}")'
exec timeout "${GPU_CHECK_TIMEOUT_S:-540}" "$PYTHON" -m nft_torch.gpu_check "$@"
