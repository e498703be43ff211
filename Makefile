# The public interface of the project. `make test` and `make reproduce` work on a fresh clone:
# both create or refresh .venv/ first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
EXTRAS := companion,test,notebooks,glove,bench
STAMP := $(VENV)/.installed

.PHONY: venv venv-check test unit notebooks-test reproduce check-reproduction variation lab bench bench-study clean-venv

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
	time $(PY) -m vttwins reproduce --profile $(PROFILE) --variation $(if $(VARIATION_ONLY),--only $(VARIATION_ONLY))

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

clean-venv:
	rm -rf $(VENV)
