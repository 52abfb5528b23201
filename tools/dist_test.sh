#!/usr/bin/env bash
# Distributed testing through torchrun (torch.distributed via mmengine).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on every node.
# Without CUDA the same command runs with gloo (see projects/depth_pixpro/device.py).
# The script execs torchrun: a signal to it reaches torchrun, which stops its workers, and
# the workers exit by themselves if torchrun is killed (device.exit_with_launcher).
set -euo pipefail
usage() {
    echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]" >&2
    echo "error: $1" >&2
    exit 2
}
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }
[ $# -ge 3 ] || usage "CONFIG, CHECKPOINT and NPROC (processes per node) are required"
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
[ -n "$CONFIG" ] || usage "empty CONFIG"
[ -n "$CHECKPOINT" ] || usage "empty CHECKPOINT"
is_int "$NPROC" && [ "$NPROC" -ge 1 ] || usage "NPROC must be a positive integer, got '$NPROC'"
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
for name in NNODES NODE_RANK PORT; do
    is_int "${!name}" || usage "$name must be an integer, got '${!name}'"
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$ROOT/tools/test.py" \
    "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
