#!/bin/bash
# The GPU checks in one pass (README, "On a GPU"): run from the repository root of a
# machine with a CUDA device; results go to $OUT/results (default /tmp/gpu_out), and
# `sagatsr benchmark gpu_checks $OUT/results` joins them into one result file.
#   PREPARED   prepared Castelli dataset (default artifacts/prepared/castelli_perovskites)
#   STEPS      parts to run (default all): tests throughput scaling sisso train train_fast
#              compiled (train_fast: the same training without deterministic kernels, with
#              4 loader workers, for half the time: where the epoch time goes)
#   TRAIN_MIN  minutes of the paper-size Matbench fold-0 training (default 3)
#   .whl/      wheels that machine lacks (pymatgen ...), installed into /tmp/site if present
#   SAGATSR_SOURCE_COMMIT  the commit of a copied tree without (current) git state
# Without a GPU, DEV=cpu ACC=cpu TRAIN_MIN=0.2 NG=64 REP=1 REPS="1 2 3" dry-runs it.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_out}
DEV=${DEV:-cuda}
ACC=${ACC:-gpu}
TRAIN_MIN=${TRAIN_MIN:-3}
NG=${NG:-4096}
REP=${REP:-5}
REPS=${REPS:-"1 2 3 4 6 8 11 16"}
STEPS=${STEPS:-"tests throughput scaling sisso train train_fast compiled"}
R=$OUT/results
mkdir -p "$R"
stamp() { echo "=== $(date +%T) $*"; }
pack() { tar cf "$OUT/results.tar" --exclude=checkpoints --exclude=model -C "$OUT" results; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
if ls .whl/*.whl >/dev/null 2>&1 && ! python3 -c "import pymatgen.core" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/lib:$PWD:${PYTHONPATH:-}
if [ -z "${SAGATSR_SOURCE_COMMIT:-}" ] && [ -f .gpu/COMMIT ]; then
  export SAGATSR_SOURCE_COMMIT=$(cat .gpu/COMMIT) SAGATSR_SOURCE_DIRTY=0
fi
S=(python3 -c 'import sys; from sagatsr.cli import main; sys.exit(main(sys.argv[1:]))')
P=${PREPARED:-artifacts/prepared/castelli_perovskites}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$R/nvidia_smi.txt"
python3 -c "import torch, torch_geometric, lightning, pymatgen.core, sagatsr.provenance as p; \
print(torch.__version__, torch.version.cuda, torch_geometric.__version__, lightning.__version__); \
print(p.run_info('probe'))" 2>&1 | tee "$R/versions.txt"
if want tests; then
  stamp tests
  timeout 240 python3 -m pytest -q -p no:cacheprovider --junitxml="$R/gpu_tests.xml" \
    tests/train/test_cuda.py tests/bench/test_throughput.py tests/bench/test_scaling.py \
    2>&1 | tail -30
  pack
fi
if want throughput; then
  stamp throughput
  timeout 240 "${S[@]}" benchmark throughput --prepared $P --devices $DEV --sizes medium paper \
    --recipes before batch64 batch256 batch512 --n-graphs $NG --repeats $REP \
    --out "$R/throughput_gpu.json"
  pack
fi
if want scaling; then
  stamp scaling
  timeout 200 "${S[@]}" benchmark scaling --devices $DEV --repetitions $REPS --out "$R/scaling_gpu.json"
  pack
fi
if want sisso; then
  stamp sisso
  for device in $DEV cpu; do
    timeout 90 "${S[@]}" benchmark sisso --device $device --out "$R/sisso_engine_gpu_host_$device.json"
  done
  pack
fi
if want train; then
  stamp train
  timeout $((60 * ${TRAIN_MIN%.*} + 150)) "${S[@]}" train $P --split matbench_fold0 --target e_form \
    --size paper --accelerator $ACC --devices 1 --max-time "$TRAIN_MIN" --quiet \
    --out "$R/train_gpu_paper_fold0"
  pack
fi
if want train_fast; then
  stamp train_fast
  FAST_MIN=$(python3 -c "print($TRAIN_MIN / 2)")
  timeout $((30 * ${TRAIN_MIN%.*} + 120)) "${S[@]}" train $P --split matbench_fold0 \
    --target e_form --size paper --accelerator $ACC --devices 1 --max-time "$FAST_MIN" --quiet \
    --no-deterministic --num-workers 4 --out "$R/train_gpu_paper_fold0_fast"
  pack
fi
if want compiled; then
  stamp compiled
  # One file per size: a cut-off run keeps the sizes it finished.
  for size in medium paper; do
    timeout 150 "${S[@]}" benchmark throughput --prepared $P --devices $DEV --sizes $size \
      --recipes batch256 batch256_compiled batch512_compiled --n-graphs $NG --repeats $REP \
      --out "$R/throughput_gpu_compiled_$size.json"
    pack
  done
fi
stamp done
