#!/usr/bin/env bash
# Testing on a slurm cluster.
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
# SRUN_ARGS is split on spaces (several srun options); every other argument is passed
# quoted, so paths may contain spaces.
set -euo pipefail
usage() {
    echo "usage: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]" >&2
    echo "error: $1" >&2
    exit 2
}
is_int() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ]; }
[ $# -ge 4 ] || usage "PARTITION, JOB_NAME, CONFIG and CHECKPOINT are required"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
for name in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
    is_int "${!name}" || usage "$name must be a positive integer, got '${!name}'"
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
set -x
# shellcheck disable=SC2086  # SRUN_ARGS: several options on purpose
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher="slurm" "${@:5}"
