#!/usr/bin/env bash
# Distributed testing through torchrun (torch.distributed via mmengine).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Environment, multi-node and signals: see tools/_torchrun_common.sh.
set -euo pipefail
USAGE="bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]"
. "$(dirname "$0")/_torchrun_common.sh"
[ $# -ge 3 ] || usage "CONFIG, CHECKPOINT and NPROC (processes per node) are required"
[ -n "$1" ] || usage "empty CONFIG"
[ -n "$2" ] || usage "empty CHECKPOINT"
exec_torchrun "$3" test.py "$1" "$2" "${@:4}"
