#!/usr/bin/env bash
# One GPU check (< 8 min on one H200): the `gpu` tests, the Triton interpreter-free tests on CUDA, and the GPU
# benchmark, which writes results/benchmarks/gpu.{json,md}. Runs from the source tree with the machine's own python3
# (3.12; torch+CUDA, triton, numba, pandas, pytest): no pip install, PYTHONPATH=. only.
#   bash benchmarks/gpu_check.sh
# Optional wheels (PyAV for pixel mode, pysdtw for the peer kernel) travel in .whl/ and go to /tmp/site, e.g.
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 -d .whl av==14.4.0 pysdtw==0.0.5
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
$PY -c "import sys, torch, triton; print(sys.version.split()[0], torch.__version__, torch.version.cuda, triton.__version__)"
status=0
timeout 300 $PY -m pytest -q -p no:cacheprovider tests/test_alignment_gpu.py tests/test_alignment_triton.py || status=1
timeout 240 $PY benchmarks/bench_gpu.py || status=1
echo "gpu_check: exit ${status} (results/benchmarks/gpu.md)"
exit $status
