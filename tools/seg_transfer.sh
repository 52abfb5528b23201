#!/usr/bin/env bash
# Segmentation transfer: fine-tune + test an mmseg config from a pretraining
# checkpoint and append the result to work_dirs/seg_transfer_results.{csv,md}
# (see tools/seg_transfer.py).
#   bash tools/seg_transfer.sh CONFIG CHECKPOINT [NPROC] [extra args...]
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
exec "$PYTHON" "$ROOT/tools/seg_transfer.py" "$CONFIG" "$CHECKPOINT" --nproc "$NPROC" "$@"
