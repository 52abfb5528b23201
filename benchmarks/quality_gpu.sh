#!/usr/bin/env bash
# The preregistered quality benchmark (benchmarks/README.md, "quality.py") on
# one GPU: every arm at seeds 0..13, QUALITY_JOBS runs at a time sharing the
# GPU (default: one per 2 CPU cores, which render and augment the views),
# checkpoints in a temporary folder that is deleted at the end, the per-seed
# rows in $OUT/<date>-quality-v2-gpu (the device tool's output folder) or
# benchmarks/results/<date>-quality-v2-gpu. Rerunning it resumes from the
# rows already there. Without CUDA: a smoke run of the same command (the
# quick protocol, one seed) that exits 0.
#   bash benchmarks/quality_gpu.sh [extra quality.py options, e.g. --dry]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
  results=${OUT:-$ROOT/benchmarks/results}/$(date +%F)-quality-v2-gpu
  jobs=${QUALITY_JOBS:-$(( $(nproc) / 2 ))}
  # shellcheck disable=SC2046
  "$PYTHON" "$ROOT/benchmarks/quality.py" --results "$results" \
    --work-dir "$work" --seeds ${QUALITY_SEEDS:-$(seq -s ' ' 0 13)} \
    --jobs "$jobs" --threads 1 --device cuda "$@"
else
  echo "no CUDA device: smoke run of the same command (quick protocol, seed 0)"
  "$PYTHON" "$ROOT/benchmarks/quality.py" --quick --seeds 0 \
    --results "$work/results" --work-dir "$work/runs" "$@"
fi
