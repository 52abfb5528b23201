#!/usr/bin/env bash
# Fine-tune + test a segmentation benchmark and append the result to
# work_dirs/benchmark_results.{csv,md} (see tools/benchmark_seg.py).
#   bash tools/benchmark_seg.sh CONFIG CHECKPOINT [NPROC] [extra args...]
# CHECKPOINT: pretraining checkpoint, converted backbone, or "none".
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG CHECKPOINT [NPROC] [--results PREFIX] [--cfg-options ...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=${3:-1}
shift $(( $# < 3 ? $# : 3 ))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
exec "$PYTHON" "$ROOT/tools/benchmark_seg.py" "$CONFIG" "$CHECKPOINT" --nproc "$NPROC" "$@"
