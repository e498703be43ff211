# The public interface of the project. `make test` and `make reproduce` work on a fresh clone:
# both create or refresh .venv/ first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
EXTRAS := companion,test,notebooks,glove,bench,cluster
STAMP := $(VENV)/.installed

.PHONY: venv venv-check test unit notebooks-test reproduce check-reproduction variation lab bench bench-study compat clean-venv

# Python 3.11 is what the project is tested with; a .venv made with another Python is rebuilt, not patched.
PYTHON_VERSION := 3.11
venv: venv-check $(STAMP)

venv-check:
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PYTHON_VERSION)".split("."))))'; then \
		echo "$(VENV) was made with $$($(PY) --version 2>&1), not Python $(PYTHON_VERSION): rebuilding it"; \
		rm -rf $(VENV); \
	fi
	@[ -x $(PY) ] || $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PYTHON_VERSION)".split("."))))' || \
		{ echo "$(PYTHON) is $$($(PYTHON) --version 2>&1); Python $(PYTHON_VERSION) is required: make PYTHON=python$(PYTHON_VERSION) ..."; exit 1; }

# Re-install when pyproject.toml changes; the kernel `vttwins` is registered inside the venv.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name vttwins --display-name "vttwins (.venv)" >/dev/null
	@touch $@

# make test = unit tests (including one smoke run of the whole pipeline into a temp folder), then every notebook
# under nbval on the smoke profile. nbval writes its tables/figures under runs/nbval/, never into results/.
test: venv
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory notebooks-test

unit: venv
	$(PY) -m pytest -q tests

NBVAL_ENV := VTTWINS_PROFILE=smoke VTTWINS_RESULTS=$(CURDIR)/runs/nbval/results PYDEVD_DISABLE_FILE_VALIDATION=1
notebooks-test: venv
	$(NBVAL_ENV) $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-kernel-name vttwins \
		--nbval-cell-timeout 600 --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks

# PROFILE=default (CPU reproduction, <= 45 min on 2 cores) -> results/ and the README block; any other profile
# (smoke, paper) -> runs/<profile>/results/, never over the committed results. VTTWINS_RESULTS=DIR: elsewhere.
reproduce: venv
	time $(PY) -m vttwins reproduce --profile $(PROFILE)

# Regenerate the profile into runs/<profile>/results (never results/) and compare every table with results/:
# one line per table in runs/<profile>/reproduction_check.md; fails when one is outside its tolerance.
check-reproduction: venv
	time $(PY) -m vttwins reproduce --profile $(PROFILE) --check

# The variation study (threads 1 vs 2, data workers 0 vs 2, two runs): results/REPRODUCIBILITY.md.
# VARIATION_ONLY="00_data 01_pretrain" limits the notebooks; empty = all of them (about 4x make reproduce).
VARIATION_ONLY ?=
variation: venv
	time $(PY) -m vttwins reproduce --profile $(PROFILE) --variation $(if $(VARIATION_ONLY),--only $(VARIATION_ONLY)) $(if $(VARIANTS),--variants $(VARIANTS))

# LAB_ARGS="--port 8890 --no-browser" passes through; as root (containers) Jupyter needs --allow-root.
LAB_ARGS ?=
ROOT_ARG := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: venv
	VTTWINS_PROFILE=$(PROFILE) $(VENV)/bin/jupyter lab --notebook-dir=notebooks \
		--MappingKernelManager.default_kernel_name=vttwins $(ROOT_ARG) $(LAB_ARGS)

bench: venv
	$(PY) benchmarks/bench_alignment.py

# The study's cost, today's per-item data path vs the table path, in one run (results/benchmarks/study.md); run it
# alone on an idle machine. BENCH_ARGS=--quick: smoke sizes into runs/bench/study-quick (a check that it runs).
BENCH_ARGS ?=
bench-study: venv
	$(PY) benchmarks/bench_study.py $(BENCH_ARGS)

# make compat (opt-in, not part of `make test`): the GPU machine's stack on this CPU machine. A throwaway
# .venv-compat with Python 3.12, torch 2.11 from PyPI (a CUDA build: several GB; it pins triton 3.6) and the
# companion and test extras; then the CPU tests of alignment, losses, objectives and models, the Triton interpreter
# tests and the Triton compile check (sm_90, sm_80). COMPAT_PYTHON=/path/to/python3.12, COMPAT_TORCH=... override.
COMPAT_VENV := .venv-compat
COMPAT_TORCH ?= torch==2.11.*
COMPAT_PYTHON ?= $(shell for p in "$$(pyenv which python3.12 2>/dev/null)" $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	"$$(command -v python3.12)"; do [ -x "$$p" ] && { echo "$$p"; break; }; done)
COMPAT_TESTS := tests/test_alignment*.py tests/test_losses.py tests/test_objectives.py tests/test_models*.py \
	tests/test_triton_compile.py
compat:
	@[ -n "$(COMPAT_PYTHON)" ] || { echo "compat: no python3.12 found (pyenv install 3.12, or COMPAT_PYTHON=...)"; exit 1; }
	@[ -x $(COMPAT_VENV)/bin/python ] || $(COMPAT_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --upgrade "pip>=24"
	$(COMPAT_VENV)/bin/python -m pip install -q "$(COMPAT_TORCH)"
	$(COMPAT_VENV)/bin/python -m pip install -q -e ".[companion,test]" "$(COMPAT_TORCH)"
	$(COMPAT_VENV)/bin/python -c "import sys, torch, triton; print('compat: python', sys.version.split()[0], \
		'torch', torch.__version__, 'triton', triton.__version__)"
	OMP_NUM_THREADS=1 $(COMPAT_VENV)/bin/python -m pytest -q -p no:cacheprovider $(COMPAT_TESTS)

clean-venv:
	rm -rf $(VENV)
