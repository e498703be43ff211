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
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name vttwins --display-name "vttwins (.venv)" >/dev/null
	@touch $@

test: venv
	$(PY) -m pytest -q tests

reproduce: venv
	$(PY) -m vttwins reproduce --profile $(PROFILE)

lab: venv
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: venv
	$(PY) benchmarks/bench_alignment.py

clean-venv:
	rm -rf $(VENV)
