#!/usr/bin/env bash
# Distributed training through torchrun (torch.distributed via mmengine).
#   bash tools/dist_train.sh CONFIG NPROC [train.py args...]
# Environment, multi-node and signals: see tools/_torchrun_common.sh.
set -euo pipefail
USAGE="bash tools/dist_train.sh CONFIG NPROC [train.py args...]"
. "$(dirname "$0")/_torchrun_common.sh"
[ $# -ge 2 ] || usage "CONFIG and NPROC (processes per node) are required"
[ -n "$1" ] || usage "empty CONFIG"
exec_torchrun "$2" train.py "$1" "${@:3}"
