#!/usr/bin/env bash
# GPU check: train-step images/s of PixPro vs DepthPixPro (ResNet-50 @ 224,
# batch 64, AMP) with their ratio and peak memory, then a 200-iteration
# dist_train.sh run of the ResNet-50 recipe on the synthetic rooms (1 GPU,
# NCCL, SyncBN) with its loss, feat_std and peak memory. Without CUDA: a
# tiny CPU smoke of the same code paths, exit 0. See benchmarks/gpu_check.py.
#   bash benchmarks/gpu_check.sh [--out DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
exec "$PYTHON" "$ROOT/benchmarks/gpu_check.py" "$@"
