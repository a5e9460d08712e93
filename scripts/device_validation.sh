#!/usr/bin/env bash
# One call on a machine with a GPU: what training costs there, and settings comparisons on
# validation games run side by side (each takes about 6 minutes on the 2-core machine).
#
#   OUT=/tmp/out bash scripts/device_validation.sh '{"model": {"transformer": {"state_dim": 6}}}'
#   BASE='{"torch_threads": 3}' WINDOWS='2015-16 2016-17 2017-18;2016-17 2017-18 2018-19' SEEDS=0 \
#       bash scripts/device_validation.sh '{"model": {"fusion": {"market_line": true}}}'
#
# 1. scripts/bench_model.py train on cuda (EPOCHS epochs, default 3, of the spec's seasons
#    2020-21..2022-23): the GPU's epoch seconds, to set against the same command on the CPU.
# 2. scripts/compare_on_validation.py, BASE alone against BASE + the config given, on each window of
#    WINDOWS (default 2018-19..2020-21 and 2017-18..2019-20: validation before every test season)
#    and each seed of SEEDS (default 0 1), all at once, each with BASE's torch_threads. BASE
#    defaults to the walk-forward's settings with the market line and 3 threads.
#
# It reads $NBA_DATA_DIR/features (sequences/graphs/context of the windows' seasons) and writes its
# logs to $OUT. Runs with the machine's own python3 (torch, torch_geometric, pandas, scikit-learn,
# scipy, and sqlalchemy, carried as a wheel where the machine lacks it).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device_validation}
mkdir -p "$OUT"
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
VARIANT=${1:?usage: device_validation.sh CONFIG_JSON}
LIMIT_S=${LIMIT_S:-420}
BASE=${BASE:-'{"optim": {"max_epochs": 10, "patience": 4}, "model": {"fusion": {"market_line": true}}, "torch_threads": 3}'}
WINDOWS=${WINDOWS:-"2018-19 2019-20 2020-21;2017-18 2018-19 2019-20"}
SEEDS=${SEEDS:-"0 1"}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, torch_geometric, pandas, sklearn, scipy, sqlalchemy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cpus', __import__('os').cpu_count())" || exit 1

python3 scripts/bench_model.py train --epochs "${EPOCHS:-3}" --device "${DEVICE:-cuda}" 2>&1 | grep '^train'

pids=()
IFS=';' read -ra windows <<<"$WINDOWS"
for window in "${windows[@]}"; do
  for seed in $SEEDS; do
    name="compare_${window%% *}_seed${seed}"
    seeded=$(python3 -c "import json,sys; b=json.loads(sys.argv[1]); b.setdefault('optim', {})['seed']=$seed; print(json.dumps(b))" "$BASE")
    # shellcheck disable=SC2086
    timeout "$LIMIT_S" python3 scripts/compare_on_validation.py --seasons $window --base "$seeded" \
      --configs '{}' "$VARIANT" >"$OUT/$name.txt" 2>"$OUT/$name.err" &
    pids+=($!)
  done
done
for p in "${pids[@]}"; do wait "$p" || echo "a comparison ended with status $?"; done
for f in "$OUT"/compare_*.txt; do echo "== $f"; grep -v '^{"config' "$f"; done
