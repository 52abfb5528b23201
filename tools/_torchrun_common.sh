# Shared by tools/dist_train.sh and tools/dist_test.sh (sourced, not run).
# Checks the launch environment and execs torchrun on a tool of this folder.
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on every node.
# Without CUDA the same command runs with gloo (see projects/depth_pixpro/device.py).
# exec: a signal to the script reaches torchrun, which stops its workers, and the
# workers exit by themselves if torchrun is killed (device.exit_with_launcher).
usage() {
    echo "usage: $USAGE" >&2
    echo "error: $1" >&2
    exit 2
}
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }

# exec_torchrun NPROC TOOL ARGS...: run tools/TOOL ARGS... --launcher pytorch
exec_torchrun() {
    local nproc=$1 tool=$2
    shift 2
    is_int "$nproc" && [ "$nproc" -ge 1 ] || usage "NPROC must be a positive integer, got '$nproc'"
    NNODES=${NNODES:-1}
    NODE_RANK=${NODE_RANK:-0}
    PORT=${PORT:-29500}
    MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
    local name
    for name in NNODES NODE_RANK PORT; do
        is_int "${!name}" || usage "$name must be an integer, got '${!name}'"
    done
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    # PYTHON: the interpreter (default python; e.g. PYTHON=python3 where
    # only python3 exists)
    exec "${PYTHON:-python}" -m torch.distributed.run \
        --nnodes="$NNODES" \
        --node_rank="$NODE_RANK" \
        --master_addr="$MASTER_ADDR" \
        --nproc_per_node="$nproc" \
        --master_port="$PORT" \
        "$root/tools/$tool" "$@" --launcher pytorch
}
