#!/usr/bin/env bash
# Distributed testing through torchrun (torch.distributed via mmengine).
#   bash tools/dist_train.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on every node.
# Without CUDA the same command runs with gloo (see projects/depth_pixpro/compat.py).
set -e
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(dirname "$0")/.."

PYTHONPATH="$ROOT":$PYTHONPATH \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
python -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$ROOT/tools/test.py" \
    $CONFIG $CHECKPOINT \
    --launcher pytorch ${@:4}
