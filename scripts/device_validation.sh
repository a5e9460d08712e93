#!/usr/bin/env bash
# One call on a machine with a GPU: what training costs there, and a settings comparison on
# validation games that the 2-core machine would need an hour for.
#
#   OUT=/tmp/out bash scripts/device_validation.sh '{"data": {"in_game_cuts": 3}}'
#
# 1. scripts/bench_model.py train on cuda (3 epochs of the spec's seasons 2020-21..2022-23): the
#    GPU's epoch seconds, to set against the same command on the CPU.
# 2. scripts/compare_on_validation.py, the defaults against the config given, on the windows
#    2018-19..2020-21 and 2017-18..2019-20 (validation before every test season), seeds 0 and 1,
#    under the walk-forward's settings with the market line: four runs at once, 3 CPU threads each.
#
# It reads data/features (sequences/graphs/context of 2017-18..2022-23) and writes its logs to $OUT.
# Runs with the machine's own python3 (torch, torch_geometric, pandas, scikit-learn, scipy).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device_validation}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
VARIANT=${1:?usage: device_validation.sh CONFIG_JSON}
LIMIT_S=${LIMIT_S:-420}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch, torch_geometric, pandas, sklearn, scipy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cpus', __import__('os').cpu_count())" || exit 1

python3 scripts/bench_model.py train --epochs 3 --device "${DEVICE:-cuda}" 2>&1 | grep -v Warning | tee "$OUT/bench_train_cuda.txt"

base='{"optim": {"max_epochs": 10, "patience": 4}, "model": {"fusion": {"market_line": true}}, "torch_threads": 3}'
pids=()
for window in "2018-19 2019-20 2020-21" "2017-18 2018-19 2019-20"; do
  for seed in 0 1; do
    name="compare_${window%% *}_seed${seed}"
    seeded=$(python3 -c "import json,sys; b=json.loads(sys.argv[1]); b['optim']['seed']=$seed; print(json.dumps(b))" "$base")
    # shellcheck disable=SC2086
    timeout "$LIMIT_S" python3 scripts/compare_on_validation.py --seasons $window --base "$seeded" \
      --configs '{}' "$VARIANT" >"$OUT/$name.txt" 2>"$OUT/$name.err" &
    pids+=($!)
  done
done
for p in "${pids[@]}"; do wait "$p" || echo "a comparison ended with status $?"; done
for f in "$OUT"/compare_*.txt; do echo "== $f"; grep -v '^{' "$f"; done
