# The README's two commands: `make demo` and `make test`. Each creates .venv when
# it is missing and installs the project into it before running.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.portflow-installed

.PHONY: demo test check install bench faults clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The full demo: dev server + UI, worker, API, a sample port run to completion
# (devtools/demo.py). Ctrl-C stops everything it started.
demo: $(STAMP)
	$(PY) -m devtools.demo

check: $(STAMP)
	$(PY) starter.py check examples/good-request.yaml

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

# The fault suite: ports through the CLI while the worker is SIGKILLed, the server restarted
# and the carrier fails on purpose (faults/; `make test` runs its --quick subset).
faults: $(STAMP)
	$(PY) -m faults

clean:
	rm -rf var/ .pytest_cache
