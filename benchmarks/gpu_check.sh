#!/usr/bin/env bash
# One GPU check (< 8 min on one H200): the `gpu` tests, the Triton interpreter-free tests on CUDA, and the GPU
# benchmark, which writes results/benchmarks/gpu.{json,md}. Runs from the source tree with the machine's own python3
# (3.12; torch+CUDA, triton, numba, pandas, pytest): no pip install, PYTHONPATH=. only.
#   bash benchmarks/gpu_check.sh
# Optional wheels (PyAV for pixel mode, pysdtw for the peer kernel) travel in .whl/ and go to /tmp/site, e.g.
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 -d .whl av==14.4.0 pysdtw==0.0.5 \
#     pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 pyyaml==6.0.4
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
$PY -c "import sys, torch, triton; print(sys.version.split()[0], torch.__version__, torch.version.cuda, triton.__version__)" \
    || { echo "gpu_check: $PY must import torch and triton"; exit 2; }
# Preflight before any CUDA call (seconds, CPU only): what each step imports. The core (alignment and its Triton
# kernels, the losses, the benchmark's table writer) is required; the training tests need the companion
# (vttwins.companion.config -> pydantic, pyyaml, SynthHowTo -> PyAV, absent from the GPU image: carry them as above),
# else they are deselected
# with the reason printed.
$PY -c "import vttwins.alignment.dp_triton, vttwins.alignment.fused_triton, vttwins.losses, vttwins.companion.results" \
    || { echo "gpu_check: the core does not import here (above): nothing was run on the GPU"; exit 2; }
DESELECT=()
if ! err=$($PY -c "import vttwins.companion.config, vttwins.companion.training" 2>&1); then
    echo "gpu_check: training tests deselected, the companion does not import: ${err##*$'\n'}"
    DESELECT=(--deselect tests/test_alignment_gpu.py::test_cuda_bf16_training_steps
              --deselect tests/test_alignment_gpu.py::test_one_process_nccl_run)
fi
$PY -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" \
    || { echo "gpu_check: no CUDA device (torch.cuda.is_available() is False): stopped before the GPU steps"; exit 3; }
status=0
timeout 300 $PY -m pytest -q -p no:cacheprovider "${DESELECT[@]}" tests/test_alignment_gpu.py \
    tests/test_alignment_triton.py || status=1
timeout 240 $PY benchmarks/bench_gpu.py || status=1
echo "gpu_check: exit ${status} (results/benchmarks/gpu.md)"
exit $status
