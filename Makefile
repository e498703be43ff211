# The public interface of the project. `make test` and `make reproduce` work on a fresh clone:
# both create or refresh .venv/ first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
EXTRAS := test,notebooks,glove,bench
STAMP := $(VENV)/.installed

.PHONY: venv test unit notebooks-test reproduce lab bench clean-venv

venv: $(STAMP)

# Re-install when pyproject.toml changes; the kernel `vttwins` is registered inside the venv.
$(STAMP): pyproject.toml
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

# PROFILE=default (CPU reproduction, <= 45 min on 2 cores) | smoke | paper (real data and GPUs: see README).
reproduce: venv
	time $(PY) -m vttwins reproduce --profile $(PROFILE)

lab: venv
	VTTWINS_PROFILE=$(PROFILE) $(VENV)/bin/jupyter lab --notebook-dir=notebooks \
		--MappingKernelManager.default_kernel_name=vttwins

bench: venv
	$(PY) benchmarks/bench_alignment.py

clean-venv:
	rm -rf $(VENV)
